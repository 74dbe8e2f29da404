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
	full := read.Needs{Bucket: true, AccountBPA: true, Versioning: true, Logging: true}.Ops()
	perAccessPoint := []op.Operation{
		op.GetAccessPoint, op.GetAccessPointPolicy, op.GetAccessPointPolicyStatus,
		op.GetAccessPointConfigurationForObjectLambda, op.GetAccessPointPolicyForObjectLambda, op.GetAccessPointPolicyStatusForObjectLambda,
		op.GetMultiRegionAccessPoint, op.GetMultiRegionAccessPointPolicy, op.GetMultiRegionAccessPointPolicyStatus,
	}
	notSettings := []op.Operation{op.ListBuckets, op.GetBucketLocation, op.ListAccessPointsForObjectLambda, op.ListMultiRegionAccessPoints, op.CheckNoPublicAccess}
	for _, s := range op.All() {
		if s.Kind != op.Read || !s.Resource.IsS3() || slices.Contains(notSettings, s.Op) {
			continue
		}
		if !slices.Contains(full, s.Op) && !slices.Contains(perAccessPoint, s.Op) {
			t.Errorf("%s is a listed read the posture never takes", s.Op)
		}
	}
	for _, s := range op.All() {
		if s.ReadBack != "" && !slices.Contains(full, s.ReadBack) && !slices.Contains(perAccessPoint, s.ReadBack) {
			t.Errorf("%s reads back with %s, which the posture cannot take", s.Op, s.ReadBack)
		}
	}
	// Each access point kind's reads.
	f0 := fake.New()
	f0.PutAccessPoint("ap", fake.AccessPoint{Bucket: "acme-data"})
	f0.PutAccessPoint("ol", fake.AccessPoint{Kind: posture.ObjectLambdaAccessPoint})
	f0.PutAccessPoint("mr", fake.AccessPoint{Kind: posture.MultiRegionAccessPoint})
	p0 := posture.Posture{Target: posture.Target{Account: fake.Account, Region: "eu-west-1"}, AccessPoints: posture.Fact[[]posture.AccessPoint]{State: posture.Set, Value: []posture.AccessPoint{
		{AccessPointRef: posture.AccessPointRef{Kind: posture.BucketAccessPoint, Name: "ap"}},
		{AccessPointRef: posture.AccessPointRef{Kind: posture.ObjectLambdaAccessPoint, Name: "ol"}},
		{AccessPointRef: posture.AccessPointRef{Kind: posture.MultiRegionAccessPoint, Name: "mr"}}}}}
	if r := read.AccessPointRound(context.Background(), read.Clients{S3: f0.S3(), Control: f0.Control()}, &p0, false, false); r.Err != nil {
		t.Error(r.Err)
	}
	for _, o := range perAccessPoint {
		if f0.Count(o) != 1 {
			t.Errorf("%s called %d times for one access point of its kind", o, f0.Count(o))
		}
	}
	for _, k := range []posture.AccessPointKind{posture.ObjectLambdaAccessPoint, posture.MultiRegionAccessPoint} {
		if refs, err := read.AccountAccessPoints(context.Background(), f0.Control(), fake.Account, "eu-west-1", k); err != nil || len(refs) != 1 {
			t.Errorf("%s: %v %v", k, refs, err)
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
