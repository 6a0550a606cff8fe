// kfake-broker: franz-go's in-memory Kafka broker (pkg/kfake) for bench/,
// driven like the mock cluster of test/harness/mock/mockcluster.c.
//
//	kfake-broker [-brokers 1] [-cpuprofile file]
//
// It listens on 127.0.0.1 with random ports and prints exactly one line,
// "BOOTSTRAP host:port[,host:port...]", on stdout. It then reads one command
// per line on stdin and answers each with exactly one line, "OK [value]" or
// "ERR <message>":
//
//	topic <name> <partitions> [replication]   create a topic (replication is ignored: kfake keeps one copy)
//	delete <name>                             delete a topic and hand its memory back to the OS
//	version                                   -> "OK <kfake module version>"
//	ping                                      -> "OK"
//	quit | exit                               -> "OK", then exit
//
// It exits 0 when stdin reaches EOF (the parent died) or on SIGTERM/SIGINT.
// Automatic topic creation is off; a topic created without a partition count
// gets kfake's default. Records stay in memory until their topic is deleted.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func kfakeVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/twmb/franz-go/pkg/kfake" {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

func main() {
	brokers := flag.Int("brokers", 1, "number of brokers")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	flag.Parse()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kfake: %v\n", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "kfake: %v\n", err)
			os.Exit(1)
		}
	}

	// kfake listens on 127.0.0.1, on a random port per broker unless kfake.Ports is given.
	// Automatic topic creation stays off (kfake's default).
	c, err := kfake.NewCluster(kfake.NumBrokers(*brokers))
	if err != nil {
		fmt.Fprintf(os.Stderr, "kfake: %v\n", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	reply := func(format string, a ...any) {
		fmt.Fprintf(out, format+"\n", a...)
		out.Flush()
	}
	reply("BOOTSTRAP %s", strings.Join(c.ListenAddrs(), ","))

	done := make(chan struct{})
	go func() {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		select {
		case <-sigs:
		case <-done:
		}
		c.Close()
		pprof.StopCPUProfile()
		os.Exit(0)
	}()

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "topic":
			if len(f) < 2 || len(f) > 4 {
				reply("ERR usage: topic <name> <partitions> [replication]")
				continue
			}
			parts := int64(-1)
			if len(f) >= 3 {
				if parts, err = strconv.ParseInt(f[2], 10, 32); err != nil {
					reply("ERR bad partition count %q", f[2])
					continue
				}
			}
			if err := c.CreateTopic(f[1], int32(parts), nil); err != nil {
				reply("ERR %v", err)
				continue
			}
			reply("OK")
		case "delete":
			if len(f) != 2 {
				reply("ERR usage: delete <name>")
				continue
			}
			if err := c.DeleteTopic(f[1]); err != nil {
				reply("ERR %v", err)
				continue
			}
			// The records are garbage now; return the memory so the RSS stays bounded.
			debug.FreeOSMemory()
			reply("OK")
		case "version":
			reply("OK %s", kfakeVersion())
		case "ping":
			reply("OK")
		case "quit", "exit":
			reply("OK")
			close(done)
			select {}
		default:
			reply("ERR unknown command %q (topic, delete, version, ping, quit)", f[0])
		}
	}
	close(done)
	select {}
}
