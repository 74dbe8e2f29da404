// Package ledger is bucketguard's record in its DynamoDB table (string
// partition key "pk", TTL attribute "expires"): what it must remember between
// invocations. Today: the last public-read approval it saw on each bucket, so
// that any change of it, by whatever call, is told (the alert path keeps its
// once-only claims in the same table).
package ledger

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

// Incidents: one item per incident (a CloudTrail event, or a bucket of a
// sweep run), "incident/<key>", holding the lease of the attempt working on
// it, how many attempts there were, the journal of the first one that was
// about to write, and the digests of the alerts told for it. It expires
// with the alert ledger's claims.

// IncidentTTL is how long an incident is remembered: longer than Lambda
// retries one event (six hours at most).
const IncidentTTL = 24 * time.Hour

// Incident is what the ledger remembers of one incident, as it was before
// this attempt claimed it.
type Incident struct {
	// Held is true when this attempt holds the lease: no other attempt of
	// the same incident is running.
	Held     bool
	Attempts int
	// Journal is the untold journal of an earlier attempt, if any.
	Journal []byte
	// Told are the digests of the alerts already told.
	Told []string
	// Unclaimed is true when the claim failed and the incident was only
	// read: told without a record, and the journal kept (a duplicate beats
	// a loss).
	Unclaimed bool
}

// Peek reads an incident without claiming it, when the claim failed.
func (s *Store) Peek(ctx context.Context, key string) (Incident, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true), Key: incidentKey(key)})
	if err != nil {
		return Incident{}, fmt.Errorf("read incident %s in %s: %w", key, s.Table, err)
	}
	inc := incidentOf(out.Item)
	inc.Held, inc.Unclaimed = true, true
	return inc, nil
}

// IncidentAPI is what incidents need of DynamoDB.
type IncidentAPI interface {
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

func incidentKey(k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "incident/" + k}}
}

func (s *Store) update(ctx context.Context, in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
	db, ok := s.DB.(IncidentAPI)
	if !ok {
		return nil, fmt.Errorf("ledger %s: the client cannot update items", s.Table)
	}
	in.TableName = aws.String(s.Table)
	return db.UpdateItem(ctx, in)
}

// Claim takes the incident's lease until the given time, counts the
// attempt, and returns the incident as it was. When another attempt holds
// an unexpired lease, Held is false and nothing changes.
func (s *Store) Claim(ctx context.Context, key string, now, until time.Time) (Incident, error) {
	out, err := s.update(ctx, &dynamodb.UpdateItemInput{
		Key:                 incidentKey(key),
		UpdateExpression:    aws.String("SET lease = :until, expires = :exp ADD attempts :one"),
		ConditionExpression: aws.String("attribute_not_exists(lease) OR lease < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": number(until.UnixMilli()), ":now": number(now.UnixMilli()),
			":exp": number(now.Add(IncidentTTL).Unix()), ":one": number(1),
		},
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		inc := incidentOf(ccf.Item)
		return inc, nil
	case err != nil:
		return Incident{}, fmt.Errorf("claim incident %s in %s: %w", key, s.Table, err)
	}
	inc := incidentOf(out.Attributes)
	inc.Held = true
	return inc, nil
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

func number(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func incidentOf(item map[string]types.AttributeValue) Incident {
	var inc Incident
	if v, ok := item["attempts"].(*types.AttributeValueMemberN); ok {
		inc.Attempts, _ = strconv.Atoi(v.Value)
	}
	if v, ok := item["journal"].(*types.AttributeValueMemberS); ok {
		inc.Journal = []byte(v.Value)
	}
	if v, ok := item["told"].(*types.AttributeValueMemberSS); ok {
		inc.Told = v.Value
	}
	return inc
}

// Release lets the lease go, for an attempt that ends without telling (a
// retry is coming, or nothing was found): the retry need not wait for the
// lease to expire.
func (s *Store) Release(ctx context.Context, key string) error {
	if _, err := s.update(ctx, &dynamodb.UpdateItemInput{Key: incidentKey(key), UpdateExpression: aws.String("REMOVE lease")}); err != nil {
		return fmt.Errorf("release incident %s in %s: %w", key, s.Table, err)
	}
	return nil
}
