//go:build integration

package handler_test

import (
	"context"

	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/plan"
)

func rvToldCounts(r *erig) (alerts, found, before int) {
	for _, a := range r.alerts() {
		alerts++
		for _, f := range a.doc.Findings {
			if f.ID == plan.PublicPolicyStatement {
				found++
			}
		}
		if strings.Contains(actionOf(a.doc, plan.RemovePublicPolicyStatements).Before, "PublicRead") {
			before++
		}
	}
	return
}

// On moto: a process that dies while SNS answers has recorded nothing (the
// record follows delivery), so Lambda's retry finds the journal and tells
// the incident, though the bucket is clean by then.
func TestKilledDuringPublishOnTheEmulator(t *testing.T) {
	r := newERig(t, func(c *config.Config) { c.CallTimeout = 300 * time.Millisecond })
	b := "acme-killed"
	r.incident(b)
	r.e.Proxy.Add(&emulator.Rule{Op: "sns:Publish", Delay: 150 * time.Millisecond, Before: r.e.Proxy.Kill, Drop: true})
	raw := r.event("PutBucketPolicy", b)
	ctx, cancel := context.WithTimeout(r.ctx, 6*time.Second)
	defer cancel()
	_, err := lambda.NewHandler(r.h.Handle).Invoke(ctx, raw)
	r.e.Proxy.Reset()
	if err == nil {
		t.Fatal("the killed attempt did not fail")
	}
	// Lambda retries a minute later at least: the dead attempt's lease
	// (until its deadline) has expired.
	<-ctx.Done()
	if err := r.invoke(raw); err != nil {
		t.Fatalf("retry: %v", err)
	}
	n, found, before := rvToldCounts(r)
	if found != 1 || before != 1 {
		t.Errorf("%d alerts; public statement told %d times, policy before %d times; want once each\n%s", n, found, before, r.logs.String())
	}
}

// On moto: when the retry's claim is throttled by DynamoDB (every SDK
// attempt), the retry writes nothing and asks to be retried; the first
// attempt's journal is kept for the attempt that can claim it.
func TestClaimThrottledOnTheEmulator(t *testing.T) {
	r := newERig(t, func(c *config.Config) { c.CallTimeout = 300 * time.Millisecond })
	b := "acme-throttled-claim"
	r.incident(b)
	r.e.Proxy.Add(&emulator.Rule{Op: "s3:PutPublicAccessBlock", Status: 503, Code: "SlowDown"})
	raw := r.event("PutBucketPolicy", b)
	if err := r.invoke(raw); err == nil {
		t.Fatal("attempt 1 must fail")
	}
	r.e.Proxy.Reset()
	// DynamoDB's X-Amz-Target is named "sqs:..." by the proxy.
	r.e.Proxy.Add(&emulator.Rule{Op: "dynamodb:UpdateItem", Attempts: []int{1, 2, 3, 4, 5, 6}, Status: 500, Code: "InternalServerError"})
	if err := r.invoke(raw); err != nil {
		t.Fatalf("retry: %v", err)
	}
	n, found, before := rvToldCounts(r)
	if found != 1 || before != 1 {
		t.Errorf("%d alerts; public statement told %d times, policy before %d times; want once each\n%s", n, found, before, r.logs.String())
	}
}

// On moto, with no process death: the read-back hangs (each attempt
// bounded), SNS and the fallback queue hang, and the alert's reserve is
// spent. Nothing is recorded as told until an alert is delivered, so the
// journal stays and the retry tells the incident.
func TestSNSAndQueueHangOnTheEmulator(t *testing.T) {
	r := newERig(t, func(c *config.Config) { c.CallTimeout = time.Second })
	b := "acme-untell"
	r.incident(b)
	r.e.Proxy.Add(
		&emulator.Rule{Op: "s3:GetPublicAccessBlock", Attempts: []int{2, 3, 4, 5, 6}, Delay: 30 * time.Second}, // the read-back
		&emulator.Rule{Op: "sns:Publish", Delay: 30 * time.Second},
		&emulator.Rule{Op: "sqs:SendMessage", Delay: 30 * time.Second},
	)
	raw := r.event("PutBucketPolicy", b)
	ctx, cancel := context.WithTimeout(r.ctx, 6500*time.Millisecond)
	defer cancel()
	_, err := lambda.NewHandler(r.h.Handle).Invoke(ctx, raw)
	r.e.Proxy.Reset()
	if err == nil {
		t.Fatal("the undelivered alert did not fail the attempt")
	}
	if err := r.invoke(raw); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n, found, before := rvToldCounts(r); found != 1 || before != 1 {
		t.Errorf("%d alerts; public statement told %d times, policy before %d times; want once each\n%s", n, found, before, r.logs.String())
	}
}
