package fake

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bucketguard/bucketguard/remediations/op"
)

// Ledger is a fake DynamoDB table of a Fake: it keeps items by their "pk";
// a conditional put fails on a key already present. Its calls count as
// "dynamodb:GetItem", "dynamodb:PutItem" and "dynamodb:DeleteItem".
type Ledger struct{ f *Fake }

// Ledger returns the account's DynamoDB client.
func (f *Fake) Ledger() *Ledger { return &Ledger{f} }

func key(item map[string]types.AttributeValue) string {
	if s, ok := item["pk"].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// PutItem stores the item; with a condition it refuses a key already stored.
func (l *Ledger) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	release, err := l.f.enter(op.PutItem, "")
	if err != nil {
		return nil, err
	}
	defer release()
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	if l.f.ledger == nil {
		l.f.ledger = map[string]map[string]types.AttributeValue{}
	}
	k := key(in.Item)
	if _, ok := l.f.ledger[k]; ok && in.ConditionExpression != nil {
		return nil, &types.ConditionalCheckFailedException{Message: new("The conditional request failed")}
	}
	l.f.ledger[k] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

// GetItem returns the item stored under the key, if any.
func (l *Ledger) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	release, err := l.f.enter(op.GetItem, "")
	if err != nil {
		return nil, err
	}
	defer release()
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	return &dynamodb.GetItemOutput{Item: l.f.ledger[key(in.Key)]}, nil
}

// DeleteItem removes the item.
func (l *Ledger) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	release, err := l.f.enter(op.DeleteItem, "")
	if err != nil {
		return nil, err
	}
	defer release()
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	delete(l.f.ledger, key(in.Key))
	return &dynamodb.DeleteItemOutput{}, nil
}
