package fake

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// UpdateItem applies the update expressions bucketguard uses: SET (a value,
// or if_not_exists), ADD (a number, or to a string set), REMOVE and DELETE
// (from a string set); with a condition of attribute_not_exists(a) and
// numeric "<" terms joined by OR. ReturnValues ALL_OLD returns the item as
// it was, also on a failed condition when asked.
func (l *Ledger) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	release, err := l.f.enter(op.UpdateItem, "")
	if err != nil {
		return nil, err
	}
	defer release()
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	if l.f.ledger == nil {
		l.f.ledger = map[string]map[string]types.AttributeValue{}
	}
	k := key(in.Key)
	old := l.f.ledger[k]
	vals := in.ExpressionAttributeValues
	if c := aws.ToString(in.ConditionExpression); c != "" && !holds(c, old, vals) {
		e := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
		if in.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld {
			e.Item = maps.Clone(old)
		}
		return nil, e
	}
	item := maps.Clone(old)
	if item == nil {
		item = map[string]types.AttributeValue{"pk": in.Key["pk"]}
	}
	if err := apply(aws.ToString(in.UpdateExpression), item, vals); err != nil {
		return nil, err
	}
	l.f.ledger[k] = item
	out := &dynamodb.UpdateItemOutput{}
	if in.ReturnValues == types.ReturnValueAllOld {
		out.Attributes = maps.Clone(old)
	}
	return out, nil
}

// holds evaluates "attribute_not_exists(a) OR b < :v ...".
func holds(cond string, item map[string]types.AttributeValue, vals map[string]types.AttributeValue) bool {
	for _, term := range strings.Split(cond, " OR ") {
		term = strings.TrimSpace(term)
		if name, ok := strings.CutPrefix(term, "attribute_not_exists("); ok {
			if _, present := item[strings.TrimSuffix(name, ")")]; !present {
				return true
			}
			continue
		}
		if a, b, ok := strings.Cut(term, " = "); ok {
			have, _ := item[a].(*types.AttributeValueMemberS)
			want, _ := vals[b].(*types.AttributeValueMemberS)
			if have != nil && want != nil && have.Value == want.Value {
				return true
			}
			continue
		}
		if a, b, ok := strings.Cut(term, " < "); ok {
			have, _ := item[a].(*types.AttributeValueMemberN)
			want, _ := vals[b].(*types.AttributeValueMemberN)
			if have != nil && want != nil && num(have.Value) < num(want.Value) {
				return true
			}
		}
	}
	return false
}

func num(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// apply runs the clauses of an update expression on item.
func apply(expr string, item map[string]types.AttributeValue, vals map[string]types.AttributeValue) error {
	clauses := regexp.MustCompile(`\b(SET|ADD|REMOVE|DELETE)\b`).FindAllStringSubmatchIndex(expr, -1)
	for i, c := range clauses {
		verb := expr[c[2]:c[3]]
		end := len(expr)
		if i+1 < len(clauses) {
			end = clauses[i+1][0]
		}
		for _, part := range splitTop(expr[c[1]:end]) {
			part = strings.TrimSpace(part)
			switch verb {
			case "SET":
				name, v, _ := strings.Cut(part, " = ")
				if inner, ok := strings.CutPrefix(v, "if_not_exists("); ok {
					if _, present := item[name]; present {
						continue
					}
					_, v, _ = strings.Cut(strings.TrimSuffix(inner, ")"), ", ")
				}
				item[name] = vals[v]
			case "REMOVE":
				delete(item, part)
			case "ADD", "DELETE":
				name, v, _ := strings.Cut(part, " ")
				switch add := vals[v].(type) {
				case *types.AttributeValueMemberN:
					have, _ := item[name].(*types.AttributeValueMemberN)
					n := num(add.Value)
					if have != nil {
						n += num(have.Value)
					}
					item[name] = &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
				case *types.AttributeValueMemberSS:
					have, _ := item[name].(*types.AttributeValueMemberSS)
					var set []string
					if have != nil {
						set = slices.Clone(have.Value)
					}
					for _, x := range add.Value {
						switch {
						case verb == "ADD" && !slices.Contains(set, x):
							set = append(set, x)
						case verb == "DELETE":
							set = slices.DeleteFunc(set, func(y string) bool { return y == x })
						}
					}
					if len(set) == 0 {
						delete(item, name)
					} else {
						item[name] = &types.AttributeValueMemberSS{Value: set}
					}
				default:
					return fmt.Errorf("fake ledger: %s %s: unsupported value", verb, part)
				}
			}
		}
	}
	return nil
}

// splitTop splits a clause at the commas outside parentheses.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
