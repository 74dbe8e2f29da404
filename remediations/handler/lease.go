package handler

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

// LeaseAPI is what TableLease needs of DynamoDB.
type LeaseAPI interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ LeaseAPI = (*dynamodb.Client)(nil)

// TableLease keeps leases in the ledger table (key "pk", TTL "expires"): a
// conditional PutItem takes one unless an unexpired one is there. TTL
// deletion lags, so the condition reads "expires" itself.
type TableLease struct {
	DB    LeaseAPI
	Table string
}

var _ SweepLease = (*TableLease)(nil)

// Take takes the lease until then, unless another holds it.
func (l *TableLease) Take(ctx context.Context, key string, now, until time.Time) (bool, error) {
	_, err := l.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.Table),
		Item: map[string]types.AttributeValue{
			"pk":      &types.AttributeValueMemberS{Value: key},
			"expires": &types.AttributeValueMemberN{Value: strconv.FormatInt(until.Unix(), 10)},
		},
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR expires <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("take lease %s: %w", key, err)
	}
	return true, nil
}

// Release deletes the lease.
func (l *TableLease) Release(ctx context.Context, key string) error {
	_, err := l.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(l.Table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}})
	if err != nil {
		return fmt.Errorf("release lease %s: %w", key, err)
	}
	return nil
}
