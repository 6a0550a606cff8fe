package kafkaharness;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.apache.kafka.common.utils.Utils;

/**
 * Reference for the default partitioner's keyed path:
 *   Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions
 *
 * usage: java kafkaharness.Murmur2Partitions <numPartitions>
 * stdin: one base64 key per line; stdout: one line per key "<partition> <toPositive(murmur2)>".
 */
public class Murmur2Partitions {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Murmur2Partitions <numPartitions>");
            System.exit(2);
        }
        int n = Integer.parseInt(args[0]);
        if (n <= 0) throw new IllegalArgumentException("numPartitions must be > 0");
        Base64.Decoder dec = Base64.getDecoder();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII), 1 << 16);
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.US_ASCII), 1 << 16);
        String line;
        while ((line = in.readLine()) != null) {
            int hash = Utils.toPositive(Utils.murmur2(dec.decode(line.trim())));
            out.write(Integer.toString(hash % n));
            out.write(' ');
            out.write(Integer.toString(hash));
            out.write('\n');
        }
        out.flush();
    }
}
