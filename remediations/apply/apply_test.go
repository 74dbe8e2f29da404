package apply_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/remediations/apply"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Every configuration write of the operation list has a writer, and makes
// exactly its own call.
func TestEveryWriteHasAWriter(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	on := posture.AllOn
	for _, s := range op.All() {
		if s.Kind != op.Write || !s.Resource.IsS3() {
			continue
		}
		t.Run(string(s.Op), func(t *testing.T) {
			f := fake.New()
			f.Put("acme-data", fake.Bucket{})
			apKind := map[op.Operation]posture.AccessPointKind{
				op.PutAccessPointPolicy: posture.BucketAccessPoint, op.DeleteAccessPointPolicy: posture.BucketAccessPoint,
				op.PutAccessPointPolicyForObjectLambda: posture.ObjectLambdaAccessPoint, op.DeleteAccessPointPolicyForObjectLambda: posture.ObjectLambdaAccessPoint,
				op.PutMultiRegionAccessPointPolicy: posture.MultiRegionAccessPoint}
			var ap *posture.AccessPoint
			if k, ok := apKind[s.Op]; ok {
				f.PutAccessPoint("acme-ap", fake.AccessPoint{Kind: k, Bucket: "acme-data"})
				ap = &posture.AccessPoint{AccessPointRef: posture.AccessPointRef{Kind: k, Name: "acme-ap"}}
			}
			owner := fake.PrivateACL()
			st := plan.Step{Op: s.Op, BPA: &on, Policy: `{"Version":"2012-10-17","Statement":[]}`, ACL: &owner,
				Encryption: &posture.Encryption{Algorithm: "AES256"}, Ownership: posture.BucketOwnerEnforced, Versioning: "Enabled",
				Logging: &posture.Logging{TargetBucket: "acme-logs", TargetPrefix: "acme-data/"}, AccessPoint: ap}
			res, err := apply.Run(context.Background(), apply.Clients{S3: f.S3(), Control: f.Control()},
				posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-data"}, []plan.Step{st}, time.Second, time.Now, quiet)
			if err != nil || res[0].Err != nil && strings.Contains(res[0].Err.Error(), "no writer") {
				t.Fatalf("%v %v", err, res[0].Err)
			}
			if f.Count(s.Op) != 1 || len(f.Calls()) != 1 {
				t.Errorf("calls %v, want one %s", f.Calls(), s.Op)
			}
		})
	}
}
