package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FindingTombstoneTTL is how long a finding that became clean or gone keeps
// the time it did: long enough that an older report, flushed late, cannot
// write an older state over it.
const FindingTombstoneTTL = 7 * 24 * time.Hour

func findingKey(id string) map[string]types.AttributeValue { return pk("finding/" + id) }

// FindingState returns the state bucketguard last set a Security Hub
// finding's workflow for and the finding's UpdatedAt then; "" when it keeps
// none (the finding became clean or gone at that time, or, with a zero
// time, was never reported).
func (s *Store) FindingState(ctx context.Context, id string) (string, time.Time, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true), Key: findingKey(id)})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("get finding state %s in %s: %w", id, s.Table, err)
	}
	var at time.Time
	if v, ok := out.Item["at"].(*types.AttributeValueMemberN); ok {
		if ms, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			at = time.UnixMilli(ms).UTC()
		}
	}
	return str(out.Item, "state"), at, nil
}

// SetFindingState keeps a finding's state as of at, its UpdatedAt, unless
// a state as of a later time is kept (a report flushed late changes
// nothing). "" keeps no state, only the time, for FindingTombstoneTTL.
func (s *Store) SetFindingState(ctx context.Context, id, state string, at time.Time) error {
	item := findingKey(id)
	item["at"] = number(at.UnixMilli())
	if state != "" {
		item["state"] = &types.AttributeValueMemberS{Value: state}
	} else {
		item["expires"] = number(at.Add(FindingTombstoneTTL).Unix())
	}
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #at < :at"),
		ExpressionAttributeNames:  map[string]string{"#at": "at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": number(at.UnixMilli())}})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return nil // a later state is kept
	case err != nil:
		return fmt.Errorf("keep finding state %s in %s: %w", id, s.Table, err)
	}
	return nil
}

// FindingStates returns the finding states kept (not the times of clean or
// gone ones) whose Id begins with prefix, by Id. It scans the table, which
// has no other index: the sweep's reconciliation calls it once a run, and
// the table holds few items (the not-clean findings, approvals, and
// records that expire within days).
func (s *Store) FindingStates(ctx context.Context, prefix string) (map[string]string, error) {
	out := map[string]string{}
	in := &dynamodb.ScanInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("begins_with(pk, :p) AND attribute_exists(#s)"),
		ProjectionExpression:      aws.String("pk, #s"),
		ExpressionAttributeNames:  map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "finding/" + prefix}}}
	for {
		page, err := s.DB.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan finding states %s in %s: %w", prefix, s.Table, err)
		}
		for _, item := range page.Items {
			if id, state := strings.TrimPrefix(str(item, "pk"), "finding/"), str(item, "state"); id != "" && state != "" {
				out[id] = state
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
