package remediations_test

import (
	"context"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
)

// A whole evaluation of a clean bucket on the in-memory fakes: the engine's
// own cost, without the network.
func BenchmarkEvaluateClean(b *testing.B) {
	f := fake.New()
	f.Put("acme-data", clean())
	e := engine(f)
	b.ReportAllocs()
	for b.Loop() {
		res, err := e.Evaluate(context.Background(), bucketT, nil, quiet)
		if err != nil || res.Status != contract.Clean {
			b.Fatal(res.Status, err)
		}
	}
}

// Read, plan, write, verify a bucket with a public policy, reset each time.
func BenchmarkEvaluateRemediate(b *testing.B) {
	f := fake.New()
	e := engine(f)
	b.ReportAllocs()
	for b.Loop() {
		f.Put("acme-data", fake.Bucket{Policy: doc(crossAccount, publicWrite)})
		res, err := e.Evaluate(context.Background(), bucketT, nil, quiet)
		if err != nil || res.Status != contract.Remediated {
			b.Fatal(res.Status, err)
		}
	}
}
