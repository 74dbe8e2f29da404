package handler_test

import (
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// TestCallCountsPerScenario pins the AWS cost of one event, per scenario:
// calls before the first write (the posture round, then the settings about
// to be overwritten read again and AWS's check of each policy written, in
// one round), writes, read-backs, publishes.
func TestCallCountsPerScenario(t *testing.T) {
	// Statements are written for whichever bucket the sample names.
	const tls = `{"Sid":"T","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::BUCKET","arn:aws:s3:::BUCKET/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
	const public = `{"Sid":"P","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::BUCKET/*"}`
	on := posture.AllOn
	sse := &posture.Encryption{Algorithm: "AES256"}
	clean := fake.Bucket{BPA: &on, Encryption: sse, Policy: `{"Statement":[` + tls + `]}`}
	publicACL := fake.PrivateACL()
	publicACL.Grants = append(publicACL.Grants, acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AllUsers}, Permission: "READ"})
	tests := []struct {
		name                              string
		sample                            string
		bucket                            fake.Bucket
		mode                              config.Mode
		reads, writes, readBacks, publish int
	}{
		{"clean bucket", "PutBucketPolicy", clean, config.Enforce, 9, 0, 0, 0},
		{"Block Public Access deleted", "DeleteBucketPublicAccessBlock", fake.Bucket{Encryption: sse, Policy: clean.Policy}, config.Enforce, 9, 1, 1, 1},
		{"one public statement", "PutBucketPolicy", fake.Bucket{BPA: &on, Encryption: sse, Policy: `{"Statement":[` + public + `,` + tls + `]}`}, config.Enforce, 9 + 1 + 1, 1, 1, 1},
		{"public ACL, BPA deleted", "PutBucketAcl", fake.Bucket{Encryption: sse, Policy: clean.Policy, ACL: publicACL}, config.Enforce, 9 + 1, 2, 2, 1},
		{"everything wrong", "PutBucketPolicy", fake.Bucket{Policy: `{"Statement":[` + public + `]}`, ACL: publicACL}, config.Enforce, 9 + 3 + 1, 4, 4, 1},
		{"everything wrong, notify mode", "PutBucketPolicy", fake.Bucket{Policy: `{"Statement":[` + public + `]}`, ACL: publicACL}, config.Notify, 9, 0, 0, 1},
		{"own role's change", "PutBucketPolicy-self", fake.Bucket{}, config.Enforce, 0, 0, 0, 0},
		{"failed call", "PutBucketPolicy-denied", fake.Bucket{}, config.Enforce, 0, 0, 0, 0},
		{"account Block Public Access weakened", "PutAccountPublicAccessBlock", fake.Bucket{}, config.Enforce, 1, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.h.Incidents.Engine.Config.Mode = tt.mode
			for _, name := range []string{"acme-invoices-prod", "acme-public-assets"} {
				bk := tt.bucket
				bk.Policy = strings.ReplaceAll(bk.Policy, "BUCKET", name)
				r.f.Put(name, bk)
			}
			if err := r.invoke(t, sample(t, tt.sample)); err != nil {
				t.Fatal(err)
			}
			var reads, writes, readBacks, publish int
			for _, c := range r.f.Calls() {
				switch {
				case c.Op == "sns:Publish":
					publish++
				case isRead(c.Op) && writes == 0:
					reads++
				case isRead(c.Op):
					readBacks++
				default:
					writes++
				}
			}
			if reads != tt.reads || writes != tt.writes || readBacks != tt.readBacks || publish != tt.publish {
				t.Errorf("reads %d, writes %d, read-backs %d, publishes %d; want %d, %d, %d, %d",
					reads, writes, readBacks, publish, tt.reads, tt.writes, tt.readBacks, tt.publish)
			}
		})
	}
}

func isRead(o op.Operation) bool { return o.IsS3() && o.IsRead() }
