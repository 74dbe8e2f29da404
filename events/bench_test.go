package events_test

import (
	"testing"

	"github.com/bucketguard/bucketguard/events"
)

func BenchmarkParse(b *testing.B) {
	raw := samples(b)["PutBucketPolicy"]
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}
