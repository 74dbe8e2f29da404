package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func findingKey(id string) map[string]types.AttributeValue { return pk("finding/" + id) }

// FindingState returns the state bucketguard last set a Security Hub
// finding's workflow for, or "" when it keeps none (the finding was clean,
// or never reported).
func (s *Store) FindingState(ctx context.Context, id string) (string, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true), Key: findingKey(id)})
	if err != nil {
		return "", fmt.Errorf("get finding state %s in %s: %w", id, s.Table, err)
	}
	return str(out.Item, "state"), nil
}

// SetFindingState keeps a finding's state; "" removes it. The item does not
// expire: an exposure may last, and so may an approval.
func (s *Store) SetFindingState(ctx context.Context, id, state string, at time.Time) error {
	if state == "" {
		if _, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table), Key: findingKey(id)}); err != nil {
			return fmt.Errorf("drop finding state %s in %s: %w", id, s.Table, err)
		}
		return nil
	}
	item := findingKey(id)
	item["state"] = &types.AttributeValueMemberS{Value: state}
	item["at"] = &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339)}
	if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
		return fmt.Errorf("keep finding state %s in %s: %w", id, s.Table, err)
	}
	return nil
}

// FindingStates returns the finding states kept whose Id begins with
// prefix, by Id. It scans the table (which has no other index): the sweep's
// reconciliation calls it once a run, and the table holds few items (the
// not-clean findings, approvals, and records that expire within days).
func (s *Store) FindingStates(ctx context.Context, prefix string) (map[string]string, error) {
	out := map[string]string{}
	in := &dynamodb.ScanInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("begins_with(pk, :p)"),
		ProjectionExpression:      aws.String("pk, #s"),
		ExpressionAttributeNames:  map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "finding/" + prefix}}}
	for {
		page, err := s.DB.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan finding states %s in %s: %w", prefix, s.Table, err)
		}
		for _, item := range page.Items {
			if id := strings.TrimPrefix(str(item, "pk"), "finding/"); id != "" {
				out[id] = str(item, "state")
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
