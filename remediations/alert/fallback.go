package alert

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Queue is the one SQS call the fallback needs.
type Queue interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ Queue = (*sqs.Client)(nil)

// spill sends an alert SNS would not take to a queue, with the reason, so
// that it is kept durably (and alarmed on) rather than lost.
func spill(ctx context.Context, q Queue, queueURL string, m Envelope, cause error) error {
	in := &sqs.SendMessageInput{
		QueueUrl:    aws.String(queueURL),
		MessageBody: aws.String(string(m.JSON)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"subject":       {DataType: aws.String("String"), StringValue: aws.String(m.Subject)},
			"publish_error": {DataType: aws.String("String"), StringValue: aws.String(truncateString(cause.Error(), 1024))},
		},
	}
	for _, k := range []string{"bucket", "account", "severity", "owner"} {
		if v := m.Attributes[k]; v != "" {
			in.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	if _, err := q.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("send alert to fallback queue %s: %w", queueURL, err)
	}
	return nil
}

func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
