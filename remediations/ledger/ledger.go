// Package ledger is bucketguard's record in its DynamoDB table (string
// partition key "pk", TTL attribute "expires"): what it must remember between
// invocations. Today: the last public-read approval it saw on each bucket, so
// that any change of it, by whatever call, is told (the alert path keeps its
// once-only claims in the same table).
package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// API is what the ledger needs of DynamoDB.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store is the table.
type Store struct {
	DB    API
	Table string
}

// Approval is a bucket's approval tags as last seen ("" when absent).
type Approval struct {
	Value string
	Until string
}

func approvalKey(account, bucket string) string { return "approval/" + account + "/" + bucket }

// Approval returns the approval last recorded for a bucket, or nil.
func (s *Store) Approval(ctx context.Context, account, bucket string) (*Approval, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: approvalKey(account, bucket)}}})
	if err != nil {
		return nil, fmt.Errorf("get approval record of %s in %s: %w", bucket, s.Table, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	a := &Approval{}
	if v, ok := out.Item["value"].(*types.AttributeValueMemberS); ok {
		a.Value = v.Value
	}
	if v, ok := out.Item["until"].(*types.AttributeValueMemberS); ok {
		a.Until = v.Value
	}
	return a, nil
}

// SetApproval records a bucket's approval, who changed it and when. The
// record does not expire.
func (s *Store) SetApproval(ctx context.Context, account, bucket string, a Approval, by string, at time.Time) error {
	item := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: approvalKey(account, bucket)},
		"by": &types.AttributeValueMemberS{Value: by},
		"at": &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339)},
	}
	if a.Value != "" {
		item["value"] = &types.AttributeValueMemberS{Value: a.Value}
	}
	if a.Until != "" {
		item["until"] = &types.AttributeValueMemberS{Value: a.Until}
	}
	if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
		return fmt.Errorf("record approval of %s in %s: %w", bucket, s.Table, err)
	}
	return nil
}
