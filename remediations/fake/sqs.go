package fake

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/bucketguard/bucketguard/remediations/op"
)

// Queue is a fake SQS queue client of a Fake. Its calls count as "sqs:SendMessage".
type Queue struct{ f *Fake }

// Queue returns the account's SQS client.
func (f *Fake) Queue() *Queue { return &Queue{f} }

// Sent is one message the fake queue accepted.
type Sent struct {
	QueueURL   string
	Body       string
	Attributes map[string]string
}

// SendMessage records the message, or fails it through Fault.
func (q *Queue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	release, err := q.f.enter(op.SendMessage, aws.ToString(in.QueueUrl))
	if err != nil {
		return nil, err
	}
	defer release()
	s := Sent{QueueURL: aws.ToString(in.QueueUrl), Body: aws.ToString(in.MessageBody), Attributes: map[string]string{}}
	for k, v := range in.MessageAttributes {
		s.Attributes[k] = aws.ToString(v.StringValue)
	}
	q.f.mu.Lock()
	defer q.f.mu.Unlock()
	q.f.sent = append(q.f.sent, s)
	return &sqs.SendMessageOutput{MessageId: aws.String(fmt.Sprintf("sqs-%d", len(q.f.sent)))}, nil
}

// Sent returns the messages the queue accepted.
func (f *Fake) Sent() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sent(nil), f.sent...)
}
