package policy_test

import (
	"os"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/policy"
)

// The largest policy S3 accepts: parse, judge and fix it.
func BenchmarkJudgeAndFix20KB(b *testing.B) {
	raw, err := os.ReadFile("testdata/policies/at-20kb-limit.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := policy.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		if r := policy.Judge(d); !r.Public {
			b.Fatal("not public")
		}
		if f := d.Fix(policy.FixOptions{RequireTLS: true, Partition: "aws", Bucket: "acme-data"}); !f.Changed() {
			b.Fatal("no fix")
		}
	}
}
