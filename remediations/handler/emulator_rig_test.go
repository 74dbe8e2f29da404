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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/handler"
	fake "github.com/bucketguard/bucketguard/remediations/remediationstest"
)

// The remediator's role, as the stack would pass it in.
const roleARN = "arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator"

// erig is one test's world: the emulator (reset), an alert topic with an
// owner's queue subscribed, a fallback queue, and the handler the Lambda
// runs, wired through the fault proxy.
type erig struct {
	t        *testing.T
	e        *fake.Emulator
	ctx      context.Context
	topic    string
	inbox    string // queue URL subscribed to the topic
	fallback string // queue URL for undelivered alerts
	h        *handler.Handler
	logs     strings.Builder
}

func newERig(t *testing.T, mutate ...func(*config.Config)) *erig {
	t.Helper()
	e := fake.NewEmulator(t)
	r := &erig{t: t, e: e, ctx: fake.Ctx(t)}
	topic, err := e.Direct.SNS.CreateTopic(r.ctx, &sns.CreateTopicInput{Name: aws.String("bucketguard-alerts")})
	r.must(err)
	r.topic = *topic.TopicArn
	r.inbox = r.queue("owner-inbox")
	r.fallback = r.queue("bucketguard-undelivered")
	attrs, err := e.Direct.SQS.GetQueueAttributes(r.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(r.inbox), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	r.must(err)
	_, err = e.Direct.SNS.Subscribe(r.ctx, &sns.SubscribeInput{TopicArn: aws.String(r.topic), Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])})
	r.must(err)

	_, err = e.Direct.DynamoDB.CreateTable(r.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("bucketguard-alerts-sent"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	r.must(err)
	cfg := config.Default()
	cfg.TopicARN, cfg.SelfRoleARN, cfg.FallbackQueueURL, cfg.LedgerTable = r.topic, roleARN, r.fallback, "bucketguard-alerts-sent"
	for _, m := range mutate {
		m(&cfg)
	}
	self, err := events.ParseRole(roleARN)
	r.must(err)
	c := e.Clients
	r.h = &handler.Handler{
		Engine: &remediations.Engine{S3: c.S3, Control: c.Control, Config: cfg},
		Alerts: &alert.Sender{SNS: c.SNS, TopicARN: r.topic, Fallback: c.SQS, FallbackURL: r.fallback,
			Ledger: c.DynamoDB, LedgerTable: cfg.LedgerTable},
		Self: []events.Role{self}, Log: slog.New(slog.NewJSONHandler(&r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return r
}

func (r *erig) must(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *erig) queue(name string) string {
	q, err := r.e.Direct.SQS.CreateQueue(r.ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	r.must(err)
	return *q.QueueUrl
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

func (r *erig) scene() fake.Scene {
	return fake.Scene{S3: r.e.Direct.S3, Control: r.e.Direct.Control, Region: r.e.Region, Account: "111122223333"}
}

func (r *erig) bucket(name string)                    { r.must(r.scene().CreateBucket(r.ctx, name)) }
func (r *erig) baseline(name, owner string)           { r.must(r.scene().Baseline(r.ctx, name, owner)) }
func (r *erig) policy(b, doc string)                  { r.must(r.scene().Policy(r.ctx, b, doc)) }
func (r *erig) bpa(b string, v *remediations.BPA)     { r.must(r.scene().BPA(r.ctx, b, v)) }
func (r *erig) accountBPA(v *remediations.BPA)        { r.must(r.scene().AccountBPA(r.ctx, v)) }
func (r *erig) encryption(b, algo, key string)        { r.must(r.scene().Encryption(r.ctx, b, algo, key)) }
func (r *erig) tags(b string, tags map[string]string) { r.must(r.scene().Tags(r.ctx, b, tags)) }
func (r *erig) publicACL(b string)                    { r.must(r.scene().PublicACL(r.ctx, b)) }
func (r *erig) ownership(b, value string)             { r.must(r.scene().Ownership(r.ctx, b, value)) }
func (r *erig) versioning(b, status string)           { r.must(r.scene().Versioning(r.ctx, b, status)) }

// posture reads a bucket's posture, or the account's when b is "".
func (r *erig) posture(b string) remediations.Posture {
	r.t.Helper()
	p, err := r.scene().Posture(r.ctx, b)
	r.must(err)
	return p
}

// delivered is one SNS notification as an SQS subscriber receives it.
type delivered struct {
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
	doc               alert.Document
}

// alerts drains the owner's queue.
func (r *erig) alerts() []delivered {
	r.t.Helper()
	var out []delivered
	for {
		msgs, err := r.e.Direct.SQS.ReceiveMessage(r.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(r.inbox), MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
		r.must(err)
		if len(msgs.Messages) == 0 {
			return out
		}
		for _, m := range msgs.Messages {
			var d delivered
			r.must(json.Unmarshal([]byte(*m.Body), &d))
			r.must(json.Unmarshal([]byte(d.Message), &d.doc))
			out = append(out, d)
			_, err := r.e.Direct.SQS.DeleteMessage(r.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(r.inbox), ReceiptHandle: m.ReceiptHandle})
			r.must(err)
		}
	}
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
	policyDoc        = fake.PolicyDoc
	tlsStmt          = fake.TLSStatement
	crossAccountStmt = fake.PartnerStatement
	publicReadStmt   = fake.PublicReadStatement
	publicWriteStmt  = fake.PublicWriteStatement
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
