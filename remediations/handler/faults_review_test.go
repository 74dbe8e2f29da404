//go:build integration

package handler_test

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"strings"
	"testing"
	"time"

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

// Found by a hostile review of issue 11, on moto: the process dies while SNS answers (the Told record
// went out beside the publish and landed first). Told removed the journal
// and the lease; Untell never runs. Lambda's retry finds a clean bucket and
// the told digest: nobody is told.
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

// Found by a hostile review of issue 11, on moto: the retry's claim is throttled by DynamoDB (every SDK
// attempt); the retry goes ahead as holder without the journal, tells what
// is left, and its Told removes the first attempt's journal.
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

// Review 11 on moto, no process death needed: the read-back hangs (each
// attempt bounded), SNS and the fallback queue hang. The alert's reserve
// (3 call timeouts) is spent by the publish (one call timeout) and the
// spill (each SQS attempt bounded, the call only by the context), so Untell
// runs with the context expired and fails, while Told, written beside the
// publish, has already removed the journal. The retry finds a clean bucket:
// the incident is lost. On AWS (5 s call timeout, the SDK's standard
// back-off up to 20 s) the spill alone outlasts the 10 s left after the
// publish: a hanging SQS always ends this way.
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
