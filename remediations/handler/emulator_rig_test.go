//go:build integration

package handler_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/clients"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/handler"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

// The remediator's role, as the stack would pass it in.
const roleARN = "arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator"

// erig is one test's world: the emulator (reset), an alert topic with an
// owner's queue subscribed, a fallback queue, and the handler the Lambda
// runs, wired through the fault proxy.
type erig struct {
	t        *testing.T
	e        *emulator.Emulator
	ctx      context.Context
	topic    string
	inbox    string // queue URL subscribed to the topic
	fallback string // queue URL for undelivered alerts
	h        *handler.Handler
	logs     strings.Builder
}

func newERig(t *testing.T, mutate ...func(*config.Config)) *erig {
	t.Helper()
	e := emulator.NewEmulator(t)
	r := &erig{t: t, e: e, ctx: emulator.Ctx(t)}
	a, err := emulator.NewAlerting(r.ctx, e.Direct)
	r.must(err)
	r.topic, r.inbox, r.fallback = a.Topic, a.Inbox, a.Fallback
	cfg := config.Default()
	cfg.TopicARN, cfg.SelfRoleARN, cfg.FallbackQueueURL, cfg.LedgerTable = r.topic, roleARN, r.fallback, a.Ledger
	self, err := events.ParseRole(roleARN)
	r.must(err)
	cfg.SelfRoles = []events.Role{self}
	for _, m := range mutate {
		m(&cfg)
	}
	// Wired as the function wires itself (each call's attempts bounded by
	// the call timeout), through the fault proxy.
	sdk := emulator.EmulatorConfig(e.Proxy.URL, e.Region)
	sdk.HTTPClient = clients.HTTPClient(cfg.CallTimeout, startup.Conns(cfg))
	r.h = &handler.Handler{
		Incidents: startup.Parts(cfg, clients.New(sdk)),
		Self:      []events.Role{self}, Log: slog.New(slog.NewJSONHandler(&r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return r
}

func (r *erig) must(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}

// invoke runs the raw event through the entry point lambda.Start uses.
func (r *erig) invoke(raw []byte) error {
	_, err := lambda.NewHandler(r.h.Handle).Invoke(r.ctx, raw)
	return err
}

// event builds a CloudTrail-shaped EventBridge event from a sample, for this
// bucket in the emulator's region.
func (r *erig) event(sample, bucket string, edit ...func(detail map[string]any)) []byte {
	r.t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "testdata", "cloudtrail", sample+".json"))
	r.must(err)
	var env map[string]any
	r.must(json.Unmarshal(raw, &env))
	d := env["detail"].(map[string]any)
	env["region"], d["awsRegion"] = r.e.Region, r.e.Region
	if params, ok := d["requestParameters"].(map[string]any); ok && bucket != "" {
		params["bucketName"] = bucket
		params["Host"] = bucket + ".s3." + r.e.Region + ".amazonaws.com"
		delete(params, "host")
		d["resources"] = []any{map[string]any{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + bucket, "accountId": "111122223333"}}
	}
	for _, f := range edit {
		f(d)
	}
	out, err := json.Marshal(env)
	r.must(err)
	return out
}

// Setting up incidents, straight to the emulator, through the shared Scene.

func (r *erig) scene() emulator.Scene {
	return emulator.Scene{S3: r.e.Direct.S3, Control: r.e.Direct.Control, Region: r.e.Region, Account: "111122223333"}
}

func (r *erig) bucket(name string)                    { r.must(r.scene().CreateBucket(r.ctx, name)) }
func (r *erig) baseline(name, owner string)           { r.must(r.scene().Baseline(r.ctx, name, owner)) }
func (r *erig) policy(b, doc string)                  { r.must(r.scene().Policy(r.ctx, b, doc)) }
func (r *erig) bpa(b string, v *posture.BPA)          { r.must(r.scene().BPA(r.ctx, b, v)) }
func (r *erig) accountBPA(v *posture.BPA)             { r.must(r.scene().AccountBPA(r.ctx, v)) }
func (r *erig) encryption(b, algo, key string)        { r.must(r.scene().Encryption(r.ctx, b, algo, key)) }
func (r *erig) tags(b string, tags map[string]string) { r.must(r.scene().Tags(r.ctx, b, tags)) }
func (r *erig) publicACL(b string)                    { r.must(r.scene().PublicACL(r.ctx, b)) }
func (r *erig) ownership(b, value string)             { r.must(r.scene().Ownership(r.ctx, b, value)) }
func (r *erig) versioning(b, status string)           { r.must(r.scene().Versioning(r.ctx, b, status)) }

// posture reads a bucket's posture, or the account's when b is "".
func (r *erig) posture(b string) posture.Posture {
	r.t.Helper()
	p, err := r.scene().Posture(r.ctx, b)
	r.must(err)
	return p
}

// delivered is one SNS notification as the owner's queue receives it, with
// the alert document it carries.
type delivered struct {
	emulator.Notification
	doc alert.Document
}

// alerts drains the owner's queue.
func (r *erig) alerts() []delivered {
	r.t.Helper()
	ns, err := emulator.Drain(r.ctx, r.e.Direct, r.inbox)
	r.must(err)
	var out []delivered
	for _, n := range ns {
		d := delivered{Notification: n}
		r.must(json.Unmarshal([]byte(n.Message), &d.doc))
		out = append(out, d)
	}
	return out
}

// published returns, from the emulator's record, every message published to
// the topic: the whole MessageStructure document, e-mail text included.
func (r *erig) published() []map[string]string {
	r.t.Helper()
	resp, err := http.Get(r.e.Endpoint + "/moto-api/data.json")
	r.must(err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var data struct {
		SNS struct {
			Topic []struct {
				ARN               string  `json:"arn"`
				SentNotifications [][]any `json:"sent_notifications"`
			} `json:"Topic"`
		} `json:"sns"`
	}
	r.must(json.Unmarshal(body, &data))
	var out []map[string]string
	for _, topic := range data.SNS.Topic {
		if topic.ARN != r.topic {
			continue
		}
		for _, n := range topic.SentNotifications {
			var structured map[string]string
			if s, ok := n[1].(string); ok && json.Unmarshal([]byte(s), &structured) == nil {
				out = append(out, structured)
			}
		}
	}
	return out
}

var (
	policyDoc        = emulator.PolicyDoc
	tlsStmt          = emulator.TLSStatement
	crossAccountStmt = emulator.PartnerStatement
	publicReadStmt   = emulator.PublicReadStatement
	publicWriteStmt  = emulator.PublicWriteStatement
)

func s3DeletePolicy(b string) *s3.DeleteBucketPolicyInput {
	return &s3.DeleteBucketPolicyInput{Bucket: aws.String(b)}
}

func s3DeleteEncryption(b string) *s3.DeleteBucketEncryptionInput {
	return &s3.DeleteBucketEncryptionInput{Bucket: aws.String(b)}
}

func s3DeleteTagging(b string) *s3.DeleteBucketTaggingInput {
	return &s3.DeleteBucketTaggingInput{Bucket: aws.String(b)}
}

// logBucket makes a bucket that accepts server access logs.
func (r *erig) logBucket(name string) {
	r.bucket(name)
	r.policy(name, policyDoc(`{"Sid":"S3ServerAccessLogs","Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::`+name+`/*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}`))
}
