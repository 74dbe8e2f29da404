// Package coverage proves where bucketguard runs in an organization: every
// account (AWS Organizations) × every region, joined with the StackSet's
// stack instances and their status, and with each account and region's
// latest heartbeat (the table the admin stack keeps). It reads a page of
// accounts at a time and emits its rows before it reads the next, so its
// memory does not grow with the organization.
package coverage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/bucketguard/bucketguard/remediations/contract"
)

// ListAccountsAPIClient pages through the organization's accounts.
type ListAccountsAPIClient interface {
	ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

// DescribeOrganizationAPIClient names the management account.
type DescribeOrganizationAPIClient interface {
	DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
}

// Organization is what coverage reads of AWS Organizations.
type Organization interface {
	ListAccountsAPIClient
	DescribeOrganizationAPIClient
}

var _ Organization = (*organizations.Client)(nil)

// ListStackInstancesAPIClient lists the StackSet's instances of an account.
type ListStackInstancesAPIClient interface {
	ListStackInstances(context.Context, *cloudformation.ListStackInstancesInput, ...func(*cloudformation.Options)) (*cloudformation.ListStackInstancesOutput, error)
}

var _ ListStackInstancesAPIClient = (*cloudformation.Client)(nil)

// BatchGetItemAPIClient reads the heartbeats of a page of accounts.
type BatchGetItemAPIClient interface {
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ BatchGetItemAPIClient = (*dynamodb.Client)(nil)

// Sources are the three reads.
type Sources struct {
	Organization Organization
	Instances    ListStackInstancesAPIClient
	// Heartbeats may be nil: coverage is then the stacks' status alone.
	Heartbeats BatchGetItemAPIClient
}

// Options say what to join.
type Options struct {
	StackSet string
	// CallAs is DELEGATED_ADMIN from the delegated administrator, SELF
	// from the management account.
	CallAs  cftypes.CallAs
	Regions []string
	// HeartbeatTable is the admin stack's HeartbeatTable; "" reads none.
	HeartbeatTable string
	// MaxAge is how old a heartbeat may be: a day and a bit for a daily
	// sweep.
	MaxAge time.Duration
	Now    time.Time
	// Concurrency bounds the accounts read at once.
	Concurrency int
	// Listed is told the accounts listed so far, and whether more follow;
	// Done, each account joined (a progress bar).
	Listed func(n int, more bool)
	Done   func()
}

// The states of a row.
const (
	StateCovered      = "covered"
	StateNoStack      = "no-stack"
	StateNotCurrent   = "not-current"
	StateNoHeartbeat  = "no-heartbeat"
	StateManagement   = "management"
	StateSuspended    = "suspended"
	DefaultMaxAge     = 26 * time.Hour
	accountsPerPage   = 20  // ListAccounts' maximum
	keysPerBatchGet   = 100 // BatchGetItem's maximum
	batchGetAttempts  = 5
	instancesPageSize = 100
)

// Row is one account and region.
type Row struct {
	Account string `json:"account"`
	Name    string `json:"name,omitempty"`
	Region  string `json:"region"`
	Covered bool   `json:"covered"`
	Reason  string `json:"reason"`
	State   string `json:"state"`
	// StackStatus and DetailedStatus are the instance's, when there is one.
	StackStatus    string     `json:"stack_status,omitempty"`
	DetailedStatus string     `json:"detailed_status,omitempty"`
	LastHeartbeat  *time.Time `json:"last_heartbeat,omitempty"`
	Management     bool       `json:"management,omitempty"`
}

// Uncovered is a row that fails coverage: not covered, in an account that
// can run something (a suspended account cannot).
func (r Row) Uncovered() bool { return !r.Covered && r.State != StateSuspended }

// Summary counts the rows.
type Summary struct {
	Accounts  int `json:"accounts"`
	Rows      int `json:"rows"`
	Covered   int `json:"covered"`
	Uncovered int `json:"uncovered"`
	Suspended int `json:"suspended_accounts"`
}

// Run joins the organization's accounts, page by page, with the StackSet's
// instances and the heartbeats, and emits one row per account and region,
// accounts in the organization's order, regions in the given order.
func Run(ctx context.Context, src Sources, o Options, emit func(Row) error) (Summary, error) {
	var sum Summary
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Concurrency < 1 {
		o.Concurrency = 16
	}
	org, err := src.Organization.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return sum, fmt.Errorf("describe organization: %w", err)
	}
	management := ""
	if org.Organization != nil {
		management = aws.ToString(org.Organization.MasterAccountId)
	}
	pages := organizations.NewListAccountsPaginator(src.Organization, &organizations.ListAccountsInput{MaxResults: aws.Int32(accountsPerPage)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return sum, fmt.Errorf("list accounts: %w", err)
		}
		sum.Accounts += len(page.Accounts)
		if o.Listed != nil {
			o.Listed(sum.Accounts, pages.HasMorePages())
		}
		rows, err := o.join(ctx, src, page.Accounts, management)
		if err != nil {
			return sum, err
		}
		for _, r := range rows {
			sum.Rows++
			switch {
			case r.Covered:
				sum.Covered++
			case r.Uncovered():
				sum.Uncovered++
			}
			if err := emit(r); err != nil {
				return sum, err
			}
		}
		for _, a := range page.Accounts {
			if suspended(a) {
				sum.Suspended++
			}
		}
	}
	return sum, nil
}

func suspended(a orgtypes.Account) bool {
	return a.Status == orgtypes.AccountStatusSuspended || a.Status == orgtypes.AccountStatusPendingClosure
}

// instance is what coverage needs of a stack instance.
type instance struct {
	status, detailed, reason string
}

// join reads one page of accounts: each account's instances (Concurrency
// at once) and the page's heartbeats, then judges each account and region.
func (o Options) join(ctx context.Context, src Sources, accounts []orgtypes.Account, management string) ([]Row, error) {
	instances := make([]map[string]instance, len(accounts))
	errs := make([]error, len(accounts)+1)
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.Concurrency)
	for i, a := range accounts {
		if suspended(a) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			instances[i], errs[i] = o.instances(ctx, src.Instances, aws.ToString(a.Id))
		}()
	}
	var beats map[string]time.Time
	if src.Heartbeats != nil && o.HeartbeatTable != "" {
		beats, errs[len(accounts)] = o.heartbeats(ctx, src.Heartbeats, accounts)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var rows []Row
	for i, a := range accounts {
		id := aws.ToString(a.Id)
		for _, region := range o.Regions {
			r := Row{Account: id, Name: aws.ToString(a.Name), Region: region, Management: id == management}
			var beat *time.Time
			if t, ok := beats[id+"/"+region]; ok {
				beat = &t
			}
			in, has := instances[i][region]
			o.judge(&r, suspended(a), in, has, beat)
			rows = append(rows, r)
		}
		if o.Done != nil {
			o.Done()
		}
	}
	return rows, nil
}

// judge sets a row's verdict.
func (o Options) judge(r *Row, suspended bool, in instance, has bool, beat *time.Time) {
	r.LastHeartbeat = beat
	fresh := beat != nil && o.Now.Sub(*beat) <= o.MaxAge
	heartbeats := o.HeartbeatTable != ""
	since := func() string {
		if beat == nil {
			return "no heartbeat ever"
		}
		return fmt.Sprintf("no heartbeat since %s (%s ago)", beat.UTC().Format(time.RFC3339), o.Now.Sub(*beat).Round(time.Minute))
	}
	if has {
		r.StackStatus, r.DetailedStatus = in.status, in.detailed
	}
	switch {
	case suspended:
		r.State, r.Reason = StateSuspended, "account suspended or closing: nothing runs there"
	case !has && fresh:
		// The per-account deploy (the management account's, say).
		r.Covered, r.State, r.Reason = true, StateCovered, "per-account stack: heartbeat "+ago(o.Now, *beat)
	case !has && r.Management:
		r.State, r.Reason = StateManagement, "management account: StackSets never deploy to it; deploy the per-account stack there (cdk deploy)"
		if heartbeats {
			r.Reason += "; " + since()
		}
	case !has:
		r.State, r.Reason = StateNoStack, "no stack instance: is the account in a ring's OU, the region in the ring's regions?"
	case in.status != string(cftypes.StackInstanceStatusCurrent):
		r.State, r.Reason = StateNotCurrent, "stack "+in.status
		if in.detailed != "" {
			r.Reason += " (" + in.detailed + ")"
		}
		if in.reason != "" {
			r.Reason += ": " + in.reason
		}
	case heartbeats && !fresh:
		r.State, r.Reason = StateNoHeartbeat, "stack current, but "+since()
	case heartbeats:
		r.Covered, r.State, r.Reason = true, StateCovered, "stack current, heartbeat "+ago(o.Now, *beat)
	default:
		r.Covered, r.State, r.Reason = true, StateCovered, "stack current (no heartbeat table given)"
	}
}

func ago(now, t time.Time) string {
	return now.Sub(t).Round(time.Minute).String() + " ago"
}

// instances lists the StackSet's instances of one account, by region. The
// account filter is applied here as well: a service that ignored it would
// otherwise count another account's stack.
func (o Options) instances(ctx context.Context, c ListStackInstancesAPIClient, account string) (map[string]instance, error) {
	out := map[string]instance{}
	in := &cloudformation.ListStackInstancesInput{StackSetName: aws.String(o.StackSet), StackInstanceAccount: aws.String(account),
		MaxResults: aws.Int32(instancesPageSize)}
	if o.CallAs != "" {
		in.CallAs = o.CallAs
	}
	pages := cloudformation.NewListStackInstancesPaginator(c, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list stack instances of %s in %s: %w", o.StackSet, account, err)
		}
		for _, s := range page.Summaries {
			if aws.ToString(s.Account) != account {
				continue
			}
			i := instance{status: string(s.Status), reason: aws.ToString(s.StatusReason)}
			if s.StackInstanceStatus != nil {
				i.detailed = string(s.StackInstanceStatus.DetailedStatus)
			}
			out[aws.ToString(s.Region)] = i
		}
	}
	return out, nil
}

// heartbeats reads the latest heartbeat of each account and region of a
// page, 100 keys a call; keys DynamoDB leaves unprocessed are asked again.
func (o Options) heartbeats(ctx context.Context, c BatchGetItemAPIClient, accounts []orgtypes.Account) (map[string]time.Time, error) {
	var keys []map[string]ddbtypes.AttributeValue
	for _, a := range accounts {
		if suspended(a) {
			continue
		}
		for _, r := range o.Regions {
			keys = append(keys, map[string]ddbtypes.AttributeValue{contract.HeartbeatKey: &ddbtypes.AttributeValueMemberS{Value: aws.ToString(a.Id) + "/" + r}})
		}
	}
	out := map[string]time.Time{}
	for start := 0; start < len(keys); start += keysPerBatchGet {
		pending := keys[start:min(start+keysPerBatchGet, len(keys))]
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > batchGetAttempts {
				return nil, fmt.Errorf("get heartbeats from %s: %d keys still unprocessed after %d attempts", o.HeartbeatTable, len(pending), batchGetAttempts)
			}
			res, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{
				o.HeartbeatTable: {Keys: pending, ProjectionExpression: aws.String("#k, #t"),
					ExpressionAttributeNames: map[string]string{"#k": contract.HeartbeatKey, "#t": contract.HeartbeatAt}},
			}})
			if err != nil {
				return nil, fmt.Errorf("get heartbeats from %s: %w", o.HeartbeatTable, err)
			}
			for _, item := range res.Responses[o.HeartbeatTable] {
				k, _ := item[contract.HeartbeatKey].(*ddbtypes.AttributeValueMemberS)
				at, _ := item[contract.HeartbeatAt].(*ddbtypes.AttributeValueMemberS)
				if k == nil || at == nil {
					continue
				}
				t, err := time.Parse(time.RFC3339, at.Value)
				if err != nil {
					return nil, fmt.Errorf("heartbeat %s: %q is not an RFC 3339 time", k.Value, at.Value)
				}
				out[k.Value] = t
			}
			pending = res.UnprocessedKeys[o.HeartbeatTable].Keys
		}
	}
	return out, nil
}
