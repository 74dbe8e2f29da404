package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SweepLeaseKey names the lease of the sweeps started after guarded calls
// in one account and region.
func SweepLeaseKey(account, region string) string { return "sweep-lease/" + account + "/" + region }

// TakeLease takes a lease until then, unless an unexpired one is there
// (false). TTL deletion lags, so the condition reads "expires" itself.
func (s *Store) TakeLease(ctx context.Context, key string, now, until time.Time) (bool, error) {
	item := pk(key)
	item["expires"] = number(until.Unix())
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR expires <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": number(now.Unix())}})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("take lease %s in %s: %w", key, s.Table, err)
	}
	return true, nil
}

// DropLease deletes a lease.
func (s *Store) DropLease(ctx context.Context, key string) error {
	if _, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table), Key: pk(key)}); err != nil {
		return fmt.Errorf("drop lease %s in %s: %w", key, s.Table, err)
	}
	return nil
}
