package events_test

import (
	"errors"
	"testing"

	"github.com/bucketguard/bucketguard/events"
)

// FuzzParse checks the parser's promises on any input: no panic; every error
// wraps ErrMalformed; a watched, successful bucket-level change always names a
// valid bucket (or says why it is skipped) in a valid region and account, an
// access point change a valid access point, and an account-level one none.
func FuzzParse(f *testing.F) {
	for _, raw := range samples(f) {
		f.Add(raw)
	}
	f.Add([]byte(`{"detail-type":"AWS API Call via CloudTrail","detail":{}}`))
	f.Add([]byte(`{"eventVersion":"1.08","eventName":"PutBucketAcl","eventSource":"s3.amazonaws.com","eventTime":"2026-01-01T00:00:00Z","eventID":"x","awsRegion":"us-east-1","recipientAccountId":"111122223333","requestParameters":{"host":["b.s3.amazonaws.com"]}}`))
	self, _ := events.ParseRole("arn:aws:iam::111122223333:role/bucketguard-remediator")
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := events.Parse(raw)
		if err != nil {
			if !errors.Is(err, events.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if c.EventID == "" || c.Name == "" || c.Time.IsZero() {
			t.Fatalf("parsed change lacks id, name or time: %+v", c)
		}
		if c.SkipReason(self) != "" && c.SkipReason(events.Role{}) == "" && !self.Made(c.Actor) {
			t.Fatalf("skip depends on the role for a foreign actor: %+v", c)
		}
		if c.ErrorCode != "" || c.Source != events.EventSource || !c.Name.IsWatched() {
			return
		}
		if c.Name.IsAccountLevel() {
			if c.Bucket != "" {
				t.Fatalf("account-level change names bucket %q", c.Bucket)
			}
			return
		}
		switch c.Name.Scope() {
		case events.AccessPointScope, events.ObjectLambdaScope, events.MultiRegionScope:
			if c.AccessPoint == nil || c.AccessPoint.Name == "" || (c.Bucket != "" && !events.ValidBucketName(c.Bucket)) {
				t.Fatalf("access point change without a valid access point: %+v", c)
			}
		default:
			if !events.ValidBucketName(c.Bucket) && c.SkipReason() == "" {
				t.Fatalf("watched change has invalid bucket %q and is not skipped", c.Bucket)
			}
		}
		if len(c.Account) != 12 || c.Region == "" {
			t.Fatalf("watched change has account %q region %q", c.Account, c.Region)
		}
	})
}
