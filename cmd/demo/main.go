// Command demo shows bucketguard at work on an AWS emulator (make demo runs
// it against moto server on loopback). It creates buckets in the states real
// incidents leave behind, subscribes a queue to the alert topic, feeds each
// bucket's CloudTrail event through the remediate function's own entry point
// (the handler lambda.Start receives, given the raw JSON), and prints a
// before/after table and the alert as the owner reads it. It exits non-zero
// if any bucket ends in the wrong state. It refuses to run against anything
// but a loopback endpoint.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/clients"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/handler"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

const (
	account = "111122223333"
	roleARN = "arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	os.Exit(run(ctx, os.Stdout, os.Stderr))
}

// world is the demo's emulator account.
type world struct {
	aws      clients.Set
	scene    emulator.Scene
	topic    string
	inbox    string
	fallback string
	table    string
}

func run(ctx context.Context, stdout, stderr io.Writer) int {
	start := time.Now()
	ep := os.Getenv("AWS_ENDPOINT_URL")
	if u, err := url.Parse(ep); ep == "" || err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		fmt.Fprintf(stderr, "demo: AWS_ENDPOINT_URL=%q is not a loopback emulator; run `make demo`, which starts one\n", ep)
		return 2
	}
	set, err := clients.Load(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	w, err := setUp(ctx, set)
	if err != nil {
		fmt.Fprintf(stderr, "demo: set up the emulator: %v\n", err)
		return 1
	}
	cfg := config.Default()
	cfg.TopicARN, cfg.SelfRoleARN, cfg.FallbackQueueURL, cfg.LedgerTable = w.topic, roleARN, w.fallback, w.table
	self, _ := events.ParseRoles(roleARN)
	h := &handler.Handler{
		Incidents: startup.Parts(cfg, set),
		Self:      self,
		Log:       slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	entry := lambda.NewHandler(h.Handle) // what lambda.Start runs

	tally := map[string]int{}
	wrong := 0
	fmt.Fprintf(stdout, "bucketguard demo on %s: %d buckets, each with its CloudTrail event\n", ep, len(incidents))
	for _, inc := range incidents {
		if err := inc.setup(ctx, w.scene, inc.bucket); err != nil {
			fmt.Fprintf(stderr, "demo: %s: %v\n", inc.bucket, err)
			return 1
		}
		before, err := w.scene.Posture(ctx, inc.bucket)
		if err != nil {
			fmt.Fprintf(stderr, "demo: %s: %v\n", inc.bucket, err)
			return 1
		}
		began := time.Now()
		_, err = entry.Invoke(ctx, cloudTrailEvent(inc))
		took := time.Since(began)
		if err != nil {
			fmt.Fprintf(stderr, "demo: %s: the handler failed: %v\n", inc.bucket, err)
			return 1
		}
		after, err := w.scene.Posture(ctx, inc.bucket)
		if err != nil {
			fmt.Fprintf(stderr, "demo: %s: %v\n", inc.bucket, err)
			return 1
		}
		delivered, err := w.receive(ctx, inc.alert)
		if err != nil {
			fmt.Fprintf(stderr, "demo: %s: %v\n", inc.bucket, err)
			return 1
		}
		problems := inc.expect(after)
		if len(delivered) == 0 && inc.alert {
			problems = append(problems, "no alert reached the owner's queue")
		}
		if len(delivered) > 0 && !inc.alert {
			problems = append(problems, "an alert for a clean bucket")
		}
		printIncident(stdout, inc, before, after, delivered, problems, took)
		status := string(contract.Clean)
		if len(delivered) > 0 {
			status = string(delivered[0].Status)
		}
		tally[status]++
		if len(problems) > 0 {
			wrong++
		}
	}
	fmt.Fprintf(stdout, "\nsummary: %d buckets, %d remediated, %d reported, %d clean; %d in the wrong end state; %.1fs\n",
		len(incidents), tally[string(contract.Remediated)], tally[string(contract.Reported)], tally[string(contract.Clean)], wrong, time.Since(start).Seconds())
	if wrong > 0 {
		return 1
	}
	return 0
}

// setUp creates the alert topic with the owner's queue subscribed, the
// fallback queue and the alert ledger.
func setUp(ctx context.Context, set clients.Set) (*world, error) {
	region := set.Config.Region
	w := &world{aws: set, scene: emulator.Scene{S3: set.S3, Control: set.Control, Region: region, Account: account}, table: "bucketguard-alerts-sent"}
	var err error
	if w.topic, w.inbox, err = emulator.Inbox(ctx, set, "bucketguard-alerts", "owner-inbox"); err != nil {
		return nil, err
	}
	if w.fallback, err = emulator.CreateQueue(ctx, set, "bucketguard-undelivered"); err != nil {
		return nil, err
	}
	return w, emulator.LedgerTable(ctx, set, w.table)
}

// alertWait bounds the wait for an alert on its way from SNS to the owner's
// queue.
const alertWait = 10 * time.Second

// receive drains the owner's queue, waiting (bounded) for an alert when one
// is expected: each message is an SNS notification whose Message is the
// alert document.
func (w *world) receive(ctx context.Context, expected bool) ([]alert.Document, error) {
	want := 0
	if expected {
		want = 1
	}
	ns, err := emulator.Await(ctx, w.aws, w.inbox, want, alertWait)
	if err != nil {
		return nil, err
	}
	var docs []alert.Document
	for _, n := range ns {
		var d alert.Document
		if err := json.Unmarshal([]byte(n.Message), &d); err != nil {
			return nil, fmt.Errorf("alert document: %w", err)
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// cloudTrailEvent is the EventBridge event CloudTrail would deliver for the
// incident's last call, in the shape it writes.
func cloudTrailEvent(inc incident) []byte {
	now := time.Now().UTC().Format(time.RFC3339)
	region := os.Getenv("AWS_REGION")
	params := map[string]any{"bucketName": inc.bucket, "Host": inc.bucket + ".s3." + region + ".amazonaws.com"}
	for k, v := range inc.params {
		params[k] = v
	}
	detail := map[string]any{
		"eventVersion": "1.11",
		"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDAEXAMPLEUSER0" + strings.ToUpper(inc.actor[:4]),
			"arn": "arn:aws:iam::" + account + ":user/" + inc.actor, "accountId": account, "userName": inc.actor},
		"eventTime": now, "eventSource": events.EventSource, "eventName": inc.event, "awsRegion": region,
		"sourceIPAddress": "203.0.113.24", "userAgent": "[aws-cli/2.22.4 md/command#s3api]",
		"requestParameters": params, "responseElements": nil, "requestID": "DEMO" + strings.ToUpper(inc.bucket[5:9]),
		"eventID": "demo-" + inc.bucket, "readOnly": false, "eventType": "AwsApiCall", "managementEvent": true,
		"recipientAccountId": account, "eventCategory": "Management",
		"resources": []any{map[string]any{"accountId": account, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + inc.bucket}},
	}
	b, _ := json.Marshal(map[string]any{"version": "0", "id": "demo-" + inc.bucket, "detail-type": events.DetailType,
		"source": "aws.s3", "account": account, "time": now, "region": region, "resources": []any{}, "detail": detail})
	return b
}
