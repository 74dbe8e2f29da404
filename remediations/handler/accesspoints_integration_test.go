//go:build integration

package handler_test

import (
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/posture"
)

// An access point policy that pins s3:DataAccessPointAccount to its own
// account admits everyone who comes through it (every such request carries
// that value): judged public (the access point rules of AWS's meaning of
// public) and removed, on an approved bucket whose policy settings of BPA
// are off, so that nothing else restricts the access point.
func TestAccessPointAccountTautologyOnTheEmulator(t *testing.T) {
	r := newERig(t)
	b := "acme-invoices-prod"
	r.baseline(b, "finance")
	// Approved for public read: its policy settings of BPA stay off, so
	// nothing restricts the access point.
	r.tags(b, map[string]string{"owner": "finance", "bucketguard:approved-public": "true"})
	r.bpa(b, &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true})
	r.policy(b, policyDoc(`{"Sid":"DelegateToAccessPoints","Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":["arn:aws:s3:::`+b+`","arn:aws:s3:::`+b+`/*"],"Condition":{"StringEquals":{"s3:DataAccessPointAccount":"111122223333"}}}`, tlsStmt(b)))
	if _, err := r.e.Direct.S3.DeleteBucketEncryption(r.ctx, s3DeleteEncryption(b)); err != nil {
		t.Fatal(err)
	}
	ap := "partner-uploads"
	arn := "arn:aws:s3:" + r.e.Region + ":111122223333:accesspoint/" + ap + "/object/*"
	open := `{"Sid":"Tautology","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject"],"Resource":"` + arn + `","Condition":{"StringEquals":{"s3:DataAccessPointAccount":"111122223333"}}}`
	partner := `{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"` + arn + `"}`
	r.must(r.scene().AccessPoint(r.ctx, ap, b, posture.BPA{}, policyDoc(partner, open)))
	raw := r.event("PutAccessPointPolicy", "", func(d map[string]any) {
		d["requestParameters"].(map[string]any)["name"] = ap
	})
	if err := r.invoke(raw); err != nil {
		t.Fatalf("invoke: %v\n%s", err, r.logs.String())
	}
	got, err := r.scene().AccessPointPolicy(r.ctx, ap)
	r.must(err)
	if strings.Contains(got, "Tautology") {
		t.Errorf("the statement pinned to the access point's own account was kept:\n%s", got)
	}
	alerts := r.alerts()
	if len(alerts) != 1 || alerts[0].MessageAttributes["severity"].Value != "critical" || !strings.Contains(alerts[0].Message, "access point "+ap) {
		t.Fatalf("alerts %+v", alerts)
	}
}
