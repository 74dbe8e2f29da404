package policy_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/policy"
)

// FuzzPolicy feeds arbitrary documents to the parser and, when one parses,
// checks the fix invariants of checkFix under each option set.
func FuzzPolicy(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "policies", "*.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		f.Add(genPolicy(r, "acme-data"))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := policy.Parse(doc)
		if err != nil {
			return
		}
		_ = policy.Judge(d)
		for _, o := range []policy.FixOptions{
			{Partition: "aws", Bucket: "acme-data"},
			{Partition: "aws", Bucket: "acme-data", RequireTLS: true},
			{Partition: "aws", Bucket: "acme-data", RequireTLS: true, KeepPublicRead: true},
		} {
			checkFix(t, doc, o)
		}
	})
}
