package alert

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// Publisher is the one SNS call alerts need.
type Publisher interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ Publisher = (*sns.Client)(nil)

// Input is the PublishInput for the envelope: MessageStructure "json" with a
// text body for e-mail and the document for every other protocol, and the
// attributes owners filter on.
func (m Envelope) Input(topicARN string) *sns.PublishInput {
	in := &sns.PublishInput{
		TopicArn:          aws.String(topicARN),
		Subject:           aws.String(m.Subject),
		Message:           aws.String(m.Structured()),
		MessageStructure:  aws.String("json"),
		MessageAttributes: map[string]types.MessageAttributeValue{},
	}
	for k, v := range m.Attributes {
		in.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	return in
}

// publish sends the envelope to the topic.
func publish(ctx context.Context, p Publisher, topicARN string, m Envelope) (string, error) {
	out, err := p.Publish(ctx, m.Input(topicARN))
	if err != nil {
		return "", fmt.Errorf("publish alert to %s: %w", topicARN, err)
	}
	return aws.ToString(out.MessageId), nil
}
