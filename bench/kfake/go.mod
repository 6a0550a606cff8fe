module kafka-producer-ts/bench/kfake

go 1.26.0

// kfake has no tags. v0.0.0-20260918054303-01f206a7e32c is its newest commit
// (the module proxy's @latest), the commit franz-go v1.22.0 was tagged on.
// kfake's own go.mod still asks for franz-go v1.21.7, which lacks the kversion
// methods it calls, so franz-go is raised to v1.22.0, the same commit.

require github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c

require github.com/twmb/franz-go v1.22.0 // indirect

require (
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/pierrec/lz4/v4 v4.1.30 // indirect
	github.com/twmb/franz-go/pkg/kmsg v1.14.0 // indirect
)
