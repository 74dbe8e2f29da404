package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/bucketguard/bucketguard/remediations/clients"
)

// The alert path's resources on the emulator, made the way the stack makes
// them: the alert topic with an owner's queue subscribed, the fallback queue
// and the ledger table. The demo and the emulator tests share them.

// Notification is one SNS message as an SQS subscriber receives it.
type Notification struct {
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
}

// Attribute returns a message attribute's value.
func (n Notification) Attribute(k string) string { return n.MessageAttributes[k].Value }

// Inbox creates the topic and a queue subscribed to it, and returns the
// topic's ARN and the queue's URL.
func Inbox(ctx context.Context, set clients.Set, topicName, queueName string) (topicARN, queueURL string, err error) {
	topic, err := set.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(topicName)})
	if err != nil {
		return "", "", fmt.Errorf("create topic %s: %w", topicName, err)
	}
	queueURL, err = CreateQueue(ctx, set, queueName)
	if err != nil {
		return "", "", err
	}
	attrs, err := set.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("queue %s ARN: %w", queueName, err)
	}
	if _, err := set.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}); err != nil {
		return "", "", fmt.Errorf("subscribe %s to %s: %w", queueName, topicName, err)
	}
	return aws.ToString(topic.TopicArn), queueURL, nil
}

// CreateQueue creates a queue and returns its URL.
func CreateQueue(ctx context.Context, set clients.Set, name string) (string, error) {
	q, err := set.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	return aws.ToString(q.QueueUrl), nil
}

// LedgerTable creates the alert ledger: string partition key "pk".
func LedgerTable(ctx context.Context, set clients.Set, name string) error {
	_, err := set.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	return nil
}

// Drain receives and deletes every notification waiting in the queue.
func Drain(ctx context.Context, set clients.Set, queueURL string) ([]Notification, error) {
	return Await(ctx, set, queueURL, 0, 0)
}

// Await receives and deletes notifications until at least want have
// arrived or within has passed, then takes whatever else is waiting. SNS
// delivers to a subscribed queue asynchronously, so an alert published a
// moment ago may not be in the queue yet.
func Await(ctx context.Context, set clients.Set, queueURL string, want int, within time.Duration) ([]Notification, error) {
	var out []Notification
	deadline := time.Now().Add(within)
	for {
		var wait int32
		if len(out) < want && time.Until(deadline) >= time.Second {
			wait = 1 // long polling: moto, like SQS, answers as soon as a message is there
		}
		msgs, err := set.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: wait})
		if err != nil {
			return out, fmt.Errorf("receive from %s: %w", queueURL, err)
		}
		if len(msgs.Messages) == 0 && (len(out) >= want || !time.Now().Before(deadline)) {
			return out, nil
		}
		for _, m := range msgs.Messages {
			var n Notification
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &n); err != nil {
				return out, fmt.Errorf("notification in %s: %w", queueURL, err)
			}
			out = append(out, n)
			if _, err := set.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return out, fmt.Errorf("delete from %s: %w", queueURL, err)
			}
		}
	}
}

// Alerting is the alert path a stack deploys, made in the emulator: the
// topic with an owner's queue subscribed, the fallback queue, the ledger.
type Alerting struct {
	Topic    string // topic ARN
	Inbox    string // URL of the queue subscribed to the topic
	Fallback string // fallback queue URL
	Ledger   string // ledger table name
	// Ops is the operations topic's ARN; OpsInbox the queue subscribed.
	Ops, OpsInbox string
}

// NewAlerting creates the alert path.
func NewAlerting(ctx context.Context, set clients.Set) (Alerting, error) {
	a := Alerting{Ledger: "bucketguard-alerts-sent"}
	var err error
	if a.Topic, a.Inbox, err = Inbox(ctx, set, "bucketguard-alerts", "owner-inbox"); err != nil {
		return a, err
	}
	if a.Ops, a.OpsInbox, err = Inbox(ctx, set, "bucketguard-ops", "ops-inbox"); err != nil {
		return a, err
	}
	if a.Fallback, err = CreateQueue(ctx, set, "bucketguard-undelivered"); err != nil {
		return a, err
	}
	return a, LedgerTable(ctx, set, a.Ledger)
}

// Resolve stands the emulator's resources in for the stack's, for
// FunctionEnv: the alerting and operations topics, fallback queue and
// ledger by their logical ids, names for the canary's bucket and the sweep
// function, and a role's ARN named after its logical id.
func (a Alerting) Resolve(id, attr string) (string, error) {
	switch {
	case strings.HasPrefix(id, "AlertingTopic"):
		return a.Topic, nil
	case strings.HasPrefix(id, "AlertingUndelivered"):
		return a.Fallback, nil
	case strings.HasPrefix(id, "AlertingLedger"):
		return a.Ledger, nil
	case strings.HasPrefix(id, "MonitoringOpsTopic"):
		return a.Ops, nil
	case strings.HasPrefix(id, "CanaryBucket"):
		return "bucketguard-canary", nil // a name: nothing is read from it
	case strings.HasPrefix(id, "SweepFunction") && attr == "Arn":
		return "arn:aws:lambda:eu-west-1:111122223333:function:bucketguard-sweep", nil // no sweep is started on the emulator
	case strings.HasPrefix(id, "SweepFunction"):
		return "bucketguard-sweep", nil
	case attr == "Arn" && strings.Contains(id, "Role"):
		return "arn:aws:iam::111122223333:role/" + id, nil
	}
	return "", fmt.Errorf("no stand-in for %s %s", id, attr)
}
