package fake

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/bucketguard/bucketguard/remediations/op"
)

// Published is one message the fake SNS accepted.
type Published struct {
	TopicARN   string
	Subject    string
	Message    string
	Structure  string
	Attributes map[string]string
}

// SNS is the fake SNS client of a Fake. Its calls count as "sns:Publish".
type SNS struct{ f *Fake }

// SNS returns the account's SNS client.
func (f *Fake) SNS() *SNS { return &SNS{f} }

// Publish records the message, or fails it through Fault.
func (s *SNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	release, err := s.f.enter(op.Publish, aws.ToString(in.TopicArn))
	if err != nil {
		return nil, err
	}
	defer release()
	p := Published{TopicARN: aws.ToString(in.TopicArn), Subject: aws.ToString(in.Subject), Message: aws.ToString(in.Message),
		Structure: aws.ToString(in.MessageStructure), Attributes: map[string]string{}}
	for k, v := range in.MessageAttributes {
		p.Attributes[k] = aws.ToString(v.StringValue)
	}
	if len(p.Message) > 256*1024 {
		return nil, APIError("InvalidParameter", fmt.Sprintf("Invalid parameter: Message too long (%d bytes)", len(p.Message)))
	}
	s.f.mu.Lock()
	s.f.published = append(s.f.published, p)
	id := fmt.Sprintf("msg-%d", len(s.f.published))
	s.f.mu.Unlock()
	return &sns.PublishOutput{MessageId: aws.String(id)}, nil
}

// Published returns the messages published so far.
func (f *Fake) Published() []Published {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Published(nil), f.published...)
}
