// Package ledger is bucketguard's record in its DynamoDB table (string
// partition key "pk", TTL attribute "expires"): what it must remember between
// invocations. Seven kinds of item, each under its own key prefix:
//
//   - "approval/<account>/<bucket>": the last public-read approval seen on a
//     bucket, so that any change of it, by whatever call, is told;
//   - "incident/<key>": an incident's record (the lease of the attempt
//     working on it, the attempts, the journal, the digests told), for the
//     incident protocol (package incident);
//   - a sent mark per keyed alert outside an incident (a sweep summary), so
//     that a redelivery does not send it twice;
//   - "count/<key>": counters that expire, for fights (the same setting of a
//     bucket fixed again and again);
//   - "undo/<account>/<bucket>": what the latest incident changed on a
//     bucket, for `bucketguard undo`;
//   - "sweep-lease/<account>/<region>": the lease that lets one sweep start
//     at a time after a guarded call (TakeLease, DropLease);
//   - "finding/<Security Hub finding Id>": the state bucketguard last set a
//     finding's workflow for, kept while it is not clean (FindingState,
//     SetFindingState), so that a workflow is set only when bucketguard's
//     own view of the exposure changes.
package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/undo"
)

// API is what the ledger needs of DynamoDB.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store is the table.
type Store struct {
	DB    API
	Table string
}

// TTL is how long an incident's record and a sent mark are kept: longer
// than EventBridge and Lambda keep retrying one event (six hours at most).
const TTL = 24 * time.Hour

func approvalKey(account, bucket string) string { return "approval/" + account + "/" + bucket }

func pk(k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k}}
}

// Approval returns the approval last recorded for a bucket, or nil.
func (s *Store) Approval(ctx context.Context, account, bucket string) (*plan.ApprovalTags, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		Key: pk(approvalKey(account, bucket))})
	if err != nil {
		return nil, fmt.Errorf("get approval record of %s in %s: %w", bucket, s.Table, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return &plan.ApprovalTags{Value: str(out.Item, "value"), Until: str(out.Item, "until")}, nil
}

// SetApproval records a bucket's approval, who changed it and when. The
// record does not expire.
func (s *Store) SetApproval(ctx context.Context, account, bucket string, a plan.ApprovalTags, by string, at time.Time) error {
	item := pk(approvalKey(account, bucket))
	item["by"] = &types.AttributeValueMemberS{Value: by}
	item["at"] = &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339)}
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

// Record is an incident's record as it was before this attempt claimed it.
type Record struct {
	// Held is true when this attempt holds the lease: no other attempt of
	// the same incident is running.
	Held     bool
	Attempts int
	// Journal is the untold journal of an earlier attempt, if any.
	Journal []byte
	// Told are the digests of the alerts already told.
	Told []string
	// Unclaimed is true when the claim failed and the record was only
	// read (Peek): the attempt goes on without the lease.
	Unclaimed bool
}

func incidentKey(k string) map[string]types.AttributeValue { return pk("incident/" + k) }

func (s *Store) update(ctx context.Context, in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
	in.TableName = aws.String(s.Table)
	return s.DB.UpdateItem(ctx, in)
}

// Claim takes the incident's lease until the given time, counts the
// attempt, and returns the record as it was. When another attempt holds an
// unexpired lease, Held is false and nothing changes.
func (s *Store) Claim(ctx context.Context, key string, now, until time.Time) (Record, error) {
	out, err := s.update(ctx, &dynamodb.UpdateItemInput{
		Key:                 incidentKey(key),
		UpdateExpression:    aws.String("SET lease = :until, expires = :exp ADD attempts :one"),
		ConditionExpression: aws.String("attribute_not_exists(lease) OR lease < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": number(until.UnixMilli()), ":now": number(now.UnixMilli()),
			":exp": number(now.Add(TTL).Unix()), ":one": number(1),
		},
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return recordOf(ccf.Item), nil
	case err != nil:
		return Record{}, fmt.Errorf("claim incident %s in %s: %w", key, s.Table, err)
	}
	r := recordOf(out.Attributes)
	r.Held = true
	return r, nil
}

// Peek reads an incident's record without claiming it, when the claim
// failed: the attempt goes on unclaimed, as the holder only when no other
// attempt holds an unexpired lease.
func (s *Store) Peek(ctx context.Context, key string, now time.Time) (Record, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true), Key: incidentKey(key)})
	if err != nil {
		return Record{}, fmt.Errorf("read incident %s in %s: %w", key, s.Table, err)
	}
	r := recordOf(out.Item)
	lease := int64(0)
	if v, ok := out.Item["lease"].(*types.AttributeValueMemberN); ok {
		lease, _ = strconv.ParseInt(v.Value, 10, 64)
	}
	r.Held, r.Unclaimed = lease < now.UnixMilli(), true
	return r, nil
}

// SaveJournal keeps the journal of an attempt about to write, replacing the
// same attempt's (its fix was planned again), but not an earlier attempt's
// untold journal: that one tells the incident from its start.
func (s *Store) SaveJournal(ctx context.Context, key, attempt string, journal []byte) error {
	_, err := s.update(ctx, &dynamodb.UpdateItemInput{
		Key:                 incidentKey(key),
		UpdateExpression:    aws.String("SET journal = :j, journal_attempt = :a"),
		ConditionExpression: aws.String("attribute_not_exists(journal) OR journal_attempt = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":j": &types.AttributeValueMemberS{Value: string(journal)}, ":a": &types.AttributeValueMemberS{Value: attempt}},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // an earlier attempt's journal is kept
	}
	if err != nil {
		return fmt.Errorf("save journal of %s in %s: %w", key, s.Table, err)
	}
	return nil
}

// Told records an alert told for the incident (its digest), and lets the
// lease and the journal go: the story is out.
func (s *Store) Told(ctx context.Context, key, digest string) error {
	_, err := s.update(ctx, &dynamodb.UpdateItemInput{
		Key:                       incidentKey(key),
		UpdateExpression:          aws.String("ADD told :d REMOVE lease, journal, journal_attempt"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberSS{Value: []string{digest}}},
	})
	if err != nil {
		return fmt.Errorf("record alert of %s in %s: %w", key, s.Table, err)
	}
	return nil
}

// Release lets the lease go, for an attempt that ends without telling (a
// retry is coming, or nothing was found): the next attempt need not wait
// for the lease to expire.
func (s *Store) Release(ctx context.Context, key string) error {
	if _, err := s.update(ctx, &dynamodb.UpdateItemInput{Key: incidentKey(key), UpdateExpression: aws.String("REMOVE lease")}); err != nil {
		return fmt.Errorf("release incident %s in %s: %w", key, s.Table, err)
	}
	return nil
}

// Count adds one to a counter that expires at the given time, and returns
// its new value: how many fixes of one setting of a bucket fell in one
// window (a fight).
func (s *Store) Count(ctx context.Context, key string, expires time.Time) (int, error) {
	out, err := s.update(ctx, &dynamodb.UpdateItemInput{
		Key:                       pk("count/" + key),
		UpdateExpression:          aws.String("ADD n :one SET expires = if_not_exists(expires, :exp)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": number(1), ":exp": number(expires.Unix())},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("count %s in %s: %w", key, s.Table, err)
	}
	n := 0
	if v, ok := out.Attributes["n"].(*types.AttributeValueMemberN); ok {
		n, _ = strconv.Atoi(v.Value)
	}
	return n, nil
}

// UndoTTL is how long what bucketguard changed on a bucket is kept for an
// undo.
const UndoTTL = 30 * 24 * time.Hour

func undoKey(account, bucket string) map[string]types.AttributeValue {
	return pk("undo/" + account + "/" + bucket)
}

// SaveUndo keeps what an incident changed on a bucket, in place of an
// earlier incident's: only the latest can be undone.
func (s *Store) SaveUndo(ctx context.Context, account, bucket string, r undo.Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode undo record of %s: %w", bucket, err)
	}
	item := undoKey(account, bucket)
	item["record"] = &types.AttributeValueMemberS{Value: string(b)}
	item["expires"] = number(r.At.Add(UndoTTL).Unix())
	if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
		return fmt.Errorf("keep undo record of %s in %s: %w", bucket, s.Table, err)
	}
	return nil
}

// Undo returns what the latest incident changed on a bucket, or nil.
func (s *Store) Undo(ctx context.Context, account, bucket string) (*undo.Record, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true), Key: undoKey(account, bucket)})
	if err != nil {
		return nil, fmt.Errorf("get undo record of %s in %s: %w", bucket, s.Table, err)
	}
	raw := str(out.Item, "record")
	if raw == "" {
		return nil, nil
	}
	var r undo.Record
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return nil, fmt.Errorf("decode undo record of %s: %w", bucket, err)
	}
	return &r, nil
}

// MarkSent marks a keyed alert as sent; it reports false when the mark was
// already there (a redelivery).
func (s *Store) MarkSent(ctx context.Context, key string, now time.Time) (bool, error) {
	item := pk(key)
	item["expires"] = number(now.Add(TTL).Unix())
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ccf):
		return false, nil
	}
	return false, fmt.Errorf("mark alert %s sent in %s: %w", key, s.Table, err)
}

// UnmarkSent removes a sent mark, so that a retry may send what could not
// be sent.
func (s *Store) UnmarkSent(ctx context.Context, key string) error {
	if _, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table), Key: pk(key)}); err != nil {
		return fmt.Errorf("unmark alert %s in %s: %w", key, s.Table, err)
	}
	return nil
}

func number(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(item map[string]types.AttributeValue, k string) string {
	if v, ok := item[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func recordOf(item map[string]types.AttributeValue) Record {
	var r Record
	if v, ok := item["attempts"].(*types.AttributeValueMemberN); ok {
		r.Attempts, _ = strconv.Atoi(v.Value)
	}
	if j := str(item, "journal"); j != "" {
		r.Journal = []byte(j)
	}
	if v, ok := item["told"].(*types.AttributeValueMemberSS); ok {
		r.Told = v.Value
	}
	return r
}
