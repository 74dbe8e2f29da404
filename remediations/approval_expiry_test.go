package remediations_test

import (
	"testing"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Without an approval record (no ledger, or the ledger read failed: the
// engine falls back to "the request alone"), a TagResource or
// UntagResource that touches only the expiry tag changes the approval (an
// expired approval revived until 2099; a time-limited one made permanent),
// and that is told.
func TestExpiryOnlyChangeIsToldWithoutRecord(t *testing.T) {
	actor := events.Actor{ARN: "arn:aws:iam::111122223333:user/mallory"}
	for _, tc := range []struct {
		name   string
		tags   map[string]string
		change events.Change
	}{
		{"TagResource revives an expired approval", approved("2099-01-01T00:00:00Z"),
			events.Change{Name: events.TagResource, Actor: actor, RequestTags: map[string]string{"bucketguard:approved-until": "2099-01-01T00:00:00Z"}}},
		{"UntagResource drops the expiry", approved(""),
			events.Change{Name: events.UntagResource, Actor: actor, RemovedTags: []string{"bucketguard:approved-until"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			b := clean()
			b.BPA = &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
			b.Tags = tc.tags
			f.Put("acme-data", b)
			res := eval(t, engine(f), bucketT, &tc.change)
			for _, fd := range res.Findings {
				switch fd.ID {
				case plan.ApprovalGranted, plan.ApprovalChanged, plan.ApprovalRemoved:
					return
				}
			}
			t.Errorf("no approval notice for %s by %s; findings %+v", tc.change.Name, actor.ARN, res.Findings)
		})
	}
}

// Without an approval record, a call that cannot have removed an approval
// (a new bucket, other tags on a bucket never approved) is not told as
// "approval removed": only what the request names is told.
func TestNoFalseApprovalRemovedWithoutRecord(t *testing.T) {
	actor := events.Actor{ARN: "arn:aws:iam::111122223333:user/alice"}
	for _, tc := range []struct {
		name   string
		change events.Change
	}{
		{"CreateBucket without the tag", events.Change{Name: events.CreateBucket, Actor: actor}},
		{"PutBucketTagging of other tags", events.Change{Name: events.PutBucketTagging, Actor: actor, RequestTags: map[string]string{"owner": "data-team", "cost-center": "42"}}},
		{"PutBucketTagging, tags not in the record", events.Change{Name: events.PutBucketTagging, Actor: actor}},
		{"DeleteBucketTagging", events.Change{Name: events.DeleteBucketTagging, Actor: actor}},
		{"TagResource of other tags", events.Change{Name: events.TagResource, Actor: actor, RequestTags: map[string]string{"owner": "data-team"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			f.Put("acme-data", clean())
			res := eval(t, engine(f), bucketT, &tc.change)
			for _, fd := range res.Findings {
				switch fd.ID {
				case plan.ApprovalGranted, plan.ApprovalChanged, plan.ApprovalRemoved:
					t.Errorf("told %s: %s", fd.ID, fd.Summary)
				}
			}
		})
	}
}
