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

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/startup"
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
	if got := contract.BusRegion(busARN); got != "us-east-1" {
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

// With the central bus configured, a run puts there one outcome for each
// bucket it found something on and one heartbeat at its end, which counts
// the clean ones too.
func TestRunSendsOutcomesAndOneHeartbeat(t *testing.T) {
	f := account(12)
	b := &fake.Bus{}
	cfg := config.Default()
	cfg.HeartbeatBus = busARN
	h := handler(f, &invoker{}, time.Now)
	h.Incidents = startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), SNS: f.SNS(), Central: b})
	h.Heartbeat = &sweep.Heartbeat{Client: b, Bus: busARN}
	schedule := []byte(`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
	if _, err := lambdasdk.NewHandler(h.Handle).Invoke(lambdaCtx("run-1"), schedule); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	var beat contract.Heartbeat
	for _, e := range b.Entries() {
		kinds[aws.ToString(e.DetailType)]++
		if aws.ToString(e.DetailType) == contract.HeartbeatDetailType {
			if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &beat); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The statuses count every evaluation, the account's own among them.
	told := 0
	for s, n := range beat.Outcome {
		if s != contract.Clean {
			told += n
		}
	}
	if kinds[contract.HeartbeatDetailType] != 1 || told == 0 || kinds[contract.OutcomeDetailType] != told {
		t.Errorf("entries %v, want one heartbeat and %d outcomes (heartbeat %+v)", kinds, told, beat)
	}
}
