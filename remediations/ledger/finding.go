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
// the time it was last reported so: long enough that an older report,
// flushed late, cannot write an older state over it. Each clean report
// moves it on, so a finding once not clean keeps this small item while it
// is reported; a gone one's expires.
const FindingTombstoneTTL = 7 * 24 * time.Hour

func findingKey(id string) map[string]types.AttributeValue { return pk("finding/" + id) }

// FindingState returns what is kept of a Security Hub finding: the state
// bucketguard last set its workflow for ("" once it became clean or gone),
// the finding's UpdatedAt then (zero when nothing is kept), and whether
// that workflow was sent (false while, or after, an update that did not
// go through).
func (s *Store) FindingState(ctx context.Context, id string) (state string, at time.Time, sent bool, err error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true), Key: findingKey(id)})
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("get finding state %s in %s: %w", id, s.Table, err)
	}
	if v, ok := out.Item["at"].(*types.AttributeValueMemberN); ok {
		if ms, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			at = time.UnixMilli(ms).UTC()
		}
	}
	if v, ok := out.Item["sent"].(*types.AttributeValueMemberBOOL); ok {
		sent = v.Value
	}
	return str(out.Item, "state"), at, sent, nil
}

// SetFindingState keeps a finding's state as of at, its UpdatedAt (to the
// millisecond), only if what is kept is still what the caller read: the
// state as of prev (zero when it read nothing), and at is later. Otherwise
// it writes nothing and returns false: another report wrote in between,
// and the caller reads again. "" keeps no state, only the time, for
// FindingTombstoneTTL. sent says whether its workflow needs no update
// (MarkFindingSent says so once the update went through).
func (s *Store) SetFindingState(ctx context.Context, id, state string, at, prev time.Time, sent bool) (bool, error) {
	item := findingKey(id)
	item["at"] = number(at.UnixMilli())
	item["sent"] = &types.AttributeValueMemberBOOL{Value: sent}
	if state != "" {
		item["state"] = &types.AttributeValueMemberS{Value: state}
	} else {
		item["expires"] = number(at.Add(FindingTombstoneTTL).Unix())
	}
	// Nothing read: nothing there, or a time not kept as a number (older
	// than any). Something read: the same time still there.
	cond := "attribute_not_exists(pk) OR NOT attribute_type(#at, :n)"
	values := map[string]types.AttributeValue{":n": &types.AttributeValueMemberS{Value: "N"}}
	if !prev.IsZero() {
		cond = "#at = :prev"
		values = map[string]types.AttributeValue{":prev": number(prev.UnixMilli())}
	}
	if !at.After(prev) {
		return false, nil
	}
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item,
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: map[string]string{"#at": "at"}, ExpressionAttributeValues: values})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("keep finding state %s in %s: %w", id, s.Table, err)
	}
	return true, nil
}

// MarkFindingSent records that the workflow of the state kept as of at was
// sent; nothing, if a later state is kept by then.
func (s *Store) MarkFindingSent(ctx context.Context, id string, at time.Time) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.Table), Key: findingKey(id),
		UpdateExpression:          aws.String("SET sent = :t"),
		ConditionExpression:       aws.String("#at = :at"),
		ExpressionAttributeNames:  map[string]string{"#at": "at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": number(at.UnixMilli()), ":t": &types.AttributeValueMemberBOOL{Value: true}}})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("mark finding %s sent in %s: %w", id, s.Table, err)
	}
	return nil
}

// FindingStates returns the finding states kept (not the times of clean or
// gone ones) whose Id begins with prefix, by Id. It scans the table, which
// has no other index: the sweep's reconciliation calls it once a run, and
// the table holds few items (the findings that are or were not clean,
// approvals, and records that expire within days).
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
