package alert

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Ledger is the idempotency store: a DynamoDB table with a string partition
// key "pk" and a TTL attribute "expires". EventBridge and Lambda deliver at
// least once; a redelivered event must not alert twice, and state alone
// cannot tell (an alert that changed nothing, like an approval notice, finds
// the same state the second time).
type Ledger interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ Ledger = (*dynamodb.Client)(nil)

// LedgerTTL is how long a claim is kept: longer than EventBridge and Lambda
// keep retrying one event.
const LedgerTTL = 24 * time.Hour

// Key is the idempotency key of a message for an event: the CloudTrail event
// id and a digest of what the alert says (findings and action outcomes, not
// times). A retry that finishes work left over says something new, and is
// sent; a redelivery that finds the same says the same, and is not.
func (m Message) Key() string {
	d := m.Document
	id := "operator"
	switch {
	case d.Event != nil:
		id = d.Event.ID
	case d.Run != "":
		id = "sweep/" + d.Run + "/" + d.Bucket
	}
	return id + "/" + m.Digest()
}

// Claim records the key; it reports false when the key was already there.
func Claim(ctx context.Context, l Ledger, table, key string, now time.Time) (bool, error) {
	_, err := l.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item: map[string]types.AttributeValue{
			"pk":      &types.AttributeValueMemberS{Value: key},
			"expires": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(LedgerTTL).Unix(), 10)},
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ccf):
		return false, nil
	}
	return false, fmt.Errorf("claim alert %s in %s: %w", key, table, err)
}

// Release removes a claim, so that a retry may send what could not be sent.
func Release(ctx context.Context, l Ledger, table, key string) error {
	_, err := l.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}})
	if err != nil {
		return fmt.Errorf("release alert %s in %s: %w", key, table, err)
	}
	return nil
}
