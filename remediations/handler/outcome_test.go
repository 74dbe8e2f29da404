package handler_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

const centralBus = "arn:aws:events:us-east-1:999988887777:event-bus/bucketguard-central"

// With the organization's central bus configured, the event function sends
// the outcome of an event that found something there, beside the owner's
// alert: the same document. A redelivery finds the bucket clean and sends
// nothing more; a bus that refuses costs the alert nothing.
func TestEventOutcomeReachesTheCentralBus(t *testing.T) {
	for _, refuse := range []string{"", "AccessDeniedException"} {
		r := newRig(t)
		bus := &fake.Bus{Refuse: refuse}
		cfg := config.Default()
		cfg.TopicARN, cfg.HeartbeatBus = topic, centralBus
		r.h.Incidents = startup.Wire(cfg, startup.Clients{S3: r.f.S3(), Control: r.f.Control(), Analyzer: r.f.Analyzer(), SNS: r.f.SNS(), Central: bus})
		r.f.Put("acme-invoices-prod", fake.Bucket{Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-invoices-prod/*"}]}`,
			Tags: map[string]string{"owner": "finance"}})
		if err := r.invoke(t, sample(t, "PutBucketPolicy")); err != nil {
			t.Fatal(err)
		}
		if err := r.invoke(t, sample(t, "PutBucketPolicy")); err != nil {
			t.Fatal(err)
		}
		if n := len(r.f.Published()); n != 1 {
			t.Fatalf("refuse %q: %d alerts, want 1", refuse, n)
		}
		if refuse != "" {
			if bus.Calls() != 1 || len(bus.Entries()) != 0 {
				t.Errorf("refused bus: %d calls, %d kept", bus.Calls(), len(bus.Entries()))
			}
			continue
		}
		got := bus.Entries()
		if len(got) != 1 {
			t.Fatalf("%d outcomes on the central bus, want 1", len(got))
		}
		var d alert.Document
		if err := json.Unmarshal([]byte(aws.ToString(got[0].Detail)), &d); err != nil {
			t.Fatal(err)
		}
		if d.Status != contract.Remediated || d.Bucket != "acme-invoices-prod" || d.Event == nil || d.Owner != "finance" || aws.ToString(got[0].DetailType) != contract.OutcomeDetailType {
			t.Errorf("outcome %+v", d)
		}
	}
}
