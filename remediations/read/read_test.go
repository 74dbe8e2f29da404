package read_test

import (
	"context"
	"slices"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/read"
)

// The reads a posture can take, and every configuration write's read-back,
// each have a reader; the only listed reads without one are the sweep's and
// the CLI's, which are not settings of a bucket.
func TestEveryReadHasAReader(t *testing.T) {
	full := read.Needs{Bucket: true, Versioning: true, Logging: true}.Ops()
	notSettings := []op.Operation{op.ListBuckets, op.GetBucketLocation}
	for _, s := range op.All() {
		if s.Kind != op.Read || (s.Resource != op.Bucket && s.Resource != op.Account) || slices.Contains(notSettings, s.Op) {
			continue
		}
		if !slices.Contains(full, s.Op) {
			t.Errorf("%s is a listed read the posture never takes", s.Op)
		}
	}
	for _, s := range op.All() {
		if s.ReadBack != "" && !slices.Contains(full, s.ReadBack) {
			t.Errorf("%s reads back with %s, which the posture cannot take", s.Op, s.ReadBack)
		}
	}
	f := fake.New()
	f.Put("acme-data", fake.Bucket{})
	p := posture.Posture{Target: posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-data"}}
	for _, o := range full {
		if r := read.Round(context.Background(), read.Clients{S3: f.S3(), Control: f.Control()}, &p, []op.Operation{o}, false); r.Err != nil {
			t.Errorf("%s: %v", o, r.Err)
		}
	}
	if r := read.Round(context.Background(), read.Clients{S3: f.S3(), Control: f.Control()}, &p, []op.Operation{op.ListBuckets}, false); r.Err == nil {
		t.Error("a read with no reader is not an error")
	}
	if got := f.Count(full...); got != len(full) {
		t.Errorf("%d calls for %d reads", got, len(full))
	}
}
