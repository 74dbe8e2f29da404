package sweep_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	lambdasdk "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

const busARN = "arn:aws:events:us-east-1:999988887777:event-bus/bucketguard-heartbeats"

// bus records the events put on it; fail, when set, refuses them.
type bus struct {
	mu      sync.Mutex
	entries []types.PutEventsRequestEntry
	fail    func() (*eventbridge.PutEventsOutput, error)
}

func (b *bus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail()
	}
	b.entries = append(b.entries, in.Entries...)
	return &eventbridge.PutEventsOutput{}, nil
}

// The function, as Lambda calls it, ends each run with one heartbeat on
// the central bus: the region and the run's outcomes; a run continued in a
// second part sends it once, at its end. A bus that refuses it costs the
// run nothing.
func TestHeartbeatAfterEachRun(t *testing.T) {
	f := account(12)
	inv := &invoker{}
	b := &bus{}
	h := handler(f, inv, time.Now)
	h.Heartbeat = &sweep.Heartbeat{Client: b, Bus: busARN}
	fn := lambdasdk.NewHandler(h.Handle)
	schedule := []byte(`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
	if _, err := fn.Invoke(lambdaCtx("run-1"), schedule); err != nil {
		t.Fatal(err)
	}
	if len(b.entries) != 1 {
		t.Fatalf("%d heartbeats, want 1", len(b.entries))
	}
	e := b.entries[0]
	if aws.ToString(e.EventBusName) != busARN || aws.ToString(e.Source) != contract.HeartbeatSource || aws.ToString(e.DetailType) != contract.HeartbeatDetailType {
		t.Errorf("entry %+v", e)
	}
	var beat contract.Heartbeat
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &beat); err != nil {
		t.Fatal(err)
	}
	if beat.Region != "eu-west-1" || beat.Run != "run-1" || beat.Seen != 12 || beat.Outcome[contract.Remediated] == 0 || beat.Mode != "enforce" {
		t.Errorf("heartbeat %+v", beat)
	}
	if got := sweep.BusRegion(busARN); got != "us-east-1" {
		t.Errorf("bus region %q", got)
	}

	// A refused heartbeat: the run still ends well, its summary sent.
	b.fail = func() (*eventbridge.PutEventsOutput, error) {
		return &eventbridge.PutEventsOutput{FailedEntryCount: 1, Entries: []types.PutEventsResultEntry{{ErrorCode: aws.String("AccessDeniedException")}}}, nil
	}
	if _, err := fn.Invoke(lambdaCtx("run-2"), schedule); err != nil {
		t.Fatalf("a refused heartbeat failed the run: %v", err)
	}
	if n := countKind(f, "sweep-summary"); n != 2 {
		t.Errorf("%d summaries, want one a run", n)
	}
}
