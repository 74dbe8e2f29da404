//go:build integration

package handler_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/clients"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

// The event function, wired as it wires itself with the organization's
// central bus configured, puts the outcome of an event that found
// something on that bus, through the real EventBridge API: a rule on the
// bus (as the admin account would add) hands it to a queue, with the
// sender's account and the alert's document.
func TestOutcomeReachesTheCentralBusOnTheEmulator(t *testing.T) {
	const name = "bucketguard-central"
	r := newERig(t)
	eb := eventbridge.NewFromConfig(emulator.EmulatorConfig(r.e.Endpoint, r.e.Region))
	made, err := eb.CreateEventBus(r.ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)})
	r.must(err)
	// Rewired as start-up wires the function with the bus configured.
	cfg := r.h.Incidents.Engine.Config
	cfg.HeartbeatBus = aws.ToString(made.EventBusArn)
	sdk := emulator.EmulatorConfig(r.e.Proxy.URL, r.e.Region)
	sdk.HTTPClient = clients.HTTPClient(cfg.CallTimeout, startup.Conns(cfg))
	r.h.Incidents = startup.Parts(cfg, clients.New(sdk))
	q, err := emulator.CreateQueue(r.ctx, r.e.Direct, "central-outcomes")
	r.must(err)
	attrs, err := r.e.Direct.SQS.GetQueueAttributes(r.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	r.must(err)
	pattern, _ := json.Marshal(map[string]any{"source": []string{contract.HeartbeatSource}, "detail-type": []string{contract.OutcomeDetailType}})
	_, err = eb.PutRule(r.ctx, &eventbridge.PutRuleInput{Name: aws.String("outcomes"), EventBusName: aws.String(name), EventPattern: aws.String(string(pattern))})
	r.must(err)
	_, err = eb.PutTargets(r.ctx, &eventbridge.PutTargetsInput{Rule: aws.String("outcomes"), EventBusName: aws.String(name),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}}})
	r.must(err)

	b := "acme-central"
	r.baseline(b, "finance")
	r.policy(b, policyDoc(publicReadStmt(b), tlsStmt(b)))
	if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for deadline := time.Now().Add(10 * time.Second); len(bodies) == 0 && time.Now().Before(deadline); {
		msgs, err := r.e.Direct.SQS.ReceiveMessage(r.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		r.must(err)
		for _, m := range msgs.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
	if len(bodies) != 1 {
		t.Fatalf("%d outcomes reached the queue, want 1\n%s", len(bodies), r.logs.String())
	}
	var ev struct {
		Source     string         `json:"source"`
		DetailType string         `json:"detail-type"`
		Account    string         `json:"account"`
		Resources  []string       `json:"resources"`
		Detail     alert.Document `json:"detail"`
	}
	body := bodies[0]
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if ev.DetailType != contract.OutcomeDetailType || ev.Detail.Status != contract.Remediated || ev.Detail.Bucket != b || ev.Detail.Owner != "finance" ||
		len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:s3:::"+b {
		t.Errorf("outcome event %+v", ev)
	}
	if n := len(r.alerts()); n != 1 {
		t.Errorf("%d alerts to the owner, want 1", n)
	}
}
