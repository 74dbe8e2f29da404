package policy

import (
	"slices"
	"strconv"
	"strings"
)

// Caller describes the requests bucketguard itself makes to a bucket, as a
// policy's conditions see them, for finding Deny statements that can refuse
// them (tampering with the remediator, or a locked-down bucket that forgot
// to exempt it).
type Caller struct {
	// RoleARNs are bucketguard's roles (arn:aws:iam::111122223333:role/...).
	RoleARNs []string
	Account  string
	// CanonicalID is the account's canonical user ID (the bucket owner's,
	// from its ACL), "" when unknown. The S3 User Guide accepts it as a
	// principal that stands for the account.
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-bucket-user-policy-specifying-principal-intro.html
	CanonicalID string
	Region      string
	// Resource is the bucket's ARN, the resource of every bucket-level call.
	Resource string
	// Actions are the IAM actions bucketguard needs on the bucket.
	Actions []string
}

// Denial is a Deny statement that can refuse some of the caller's actions.
type Denial struct {
	Index   int
	Sid     string
	Actions []string
}

// DeniesTo returns the Deny statements that can apply to the caller's
// requests, with the actions each can refuse. "Can": a condition on a key
// bucketguard's requests carry with a known value (aws:SecureTransport,
// aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, the VPC keys,
// which a Lambda function outside a VPC does not send) is evaluated; any
// other condition is assumed to hold, the safe side for a warning.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
//
// Each request carries one role: a statement is weighed against each role
// on its own (exempting one role does not exempt the other).
func (d *Document) DeniesTo(c Caller) []Denial {
	callers := []Caller{c}
	if len(c.RoleARNs) > 1 {
		callers = nil
		for _, r := range c.RoleARNs {
			one := c
			one.RoleARNs = []string{r}
			callers = append(callers, one)
		}
	}
	var out []Denial
	for _, s := range d.Statements {
		if !strings.EqualFold(s.Effect, "Deny") || !s.resourceMatches(c.Resource) {
			continue
		}
		var acts []string
		for _, one := range callers {
			if !s.principalMatches(one) || !s.conditionsCanHold(one) {
				continue
			}
			for _, a := range c.Actions {
				if s.actionMatches(a) && !slices.Contains(acts, a) {
					acts = append(acts, a)
				}
			}
		}
		if len(acts) > 0 {
			slices.SortStableFunc(acts, func(a, b string) int { return slices.Index(c.Actions, a) - slices.Index(c.Actions, b) })
			out = append(out, Denial{Index: s.Index, Sid: s.Sid, Actions: acts})
		}
	}
	return out
}

// principalMatches: Principal "*" or {"AWS": "*"}, the account (root or
// id), or a value matching one of the roles or their sessions; NotPrincipal
// matches unless it lists one of those.
func (s Statement) principalMatches(c Caller) bool {
	if s.NotPrincipal != nil {
		return !c.exemptedBy(s.NotPrincipal)
	}
	return s.Principal != nil && c.listed(s.Principal)
}

// listed reports whether a principal element names the caller.
func (c Caller) listed(p *Principal) bool {
	if p.Star {
		return true
	}
	for _, v := range p.Values["CanonicalUser"] {
		// The account's canonical user ID names the account, bucketguard's
		// roles with it; when it is unknown, any may be the account's.
		if c.CanonicalID == "" || strings.EqualFold(v, c.CanonicalID) {
			return true
		}
	}
	for _, v := range p.Values["AWS"] {
		if v == "*" || v == c.Account || strings.HasSuffix(v, ":"+c.Account+":root") {
			return true
		}
		for _, arn := range c.identities() {
			if globMatch(strings.ToLower(arn), strings.ToLower(v)) {
				return true
			}
		}
		// A session of one of the roles, whatever its name (Lambda names
		// it after the function).
		for _, prefix := range c.sessionPrefixes() {
			if strings.HasPrefix(strings.ToLower(v), strings.ToLower(prefix)) {
				return true
			}
		}
	}
	return false
}

// exemptedBy reports whether a Deny's NotPrincipal leaves every one of the
// caller's roles out. A request from a role session is evaluated as the
// account, the role and the session, so the IAM guide asks NotPrincipal to
// name all three (sessions without wildcards); naming only the account or
// the role still denies the session.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
func (c Caller) exemptedBy(p *Principal) bool {
	if p.Star || len(c.RoleARNs) == 0 {
		return p.Star
	}
	values := p.Values["AWS"]
	account := slices.ContainsFunc(values, func(v string) bool {
		return v == c.Account || strings.HasSuffix(v, ":"+c.Account+":root")
	})
	if !account {
		return false
	}
	for i, r := range c.RoleARNs {
		session := c.sessionPrefixes()[i]
		if session == "" {
			return false
		}
		role := slices.Contains(values, r)
		sess := slices.ContainsFunc(values, func(v string) bool {
			return strings.HasPrefix(v, session) && !strings.ContainsAny(v[len(session):], "*?")
		})
		if !role || !sess {
			return false
		}
	}
	return true
}

// sessionPrefixes are, per role, the ARN prefix of its sessions
// (arn:aws:sts::111122223333:assumed-role/<name>/), or "" for a role ARN
// that cannot be read.
func (c Caller) sessionPrefixes() []string {
	out := make([]string, len(c.RoleARNs))
	for i, r := range c.RoleARNs {
		parts := strings.SplitN(r, ":", 6)
		if len(parts) == 6 {
			out[i] = "arn:" + parts[1] + ":sts::" + parts[4] + ":assumed-role/" + parts[5][strings.LastIndex(parts[5], "/")+1:] + "/"
		}
	}
	return out
}

// identities are the ARNs the caller's requests carry: each role, and a
// session of it.
func (c Caller) identities() []string {
	var out []string
	for _, r := range c.RoleARNs {
		out = append(out, r)
		parts := strings.SplitN(r, ":", 6)
		if len(parts) == 6 {
			name := parts[5][strings.LastIndex(parts[5], "/")+1:]
			out = append(out, "arn:"+parts[1]+":sts::"+parts[4]+":assumed-role/"+name+"/bucketguard")
		}
	}
	return out
}

func (s Statement) actionMatches(action string) bool {
	a := strings.ToLower(action)
	match := func(list []string) bool {
		return slices.ContainsFunc(list, func(p string) bool { return globMatch(a, strings.ToLower(p)) })
	}
	if s.HasNotAction {
		return !match(s.NotAction)
	}
	return match(s.Action)
}

func (s Statement) resourceMatches(arn string) bool {
	if len(s.NotResource) > 0 {
		return !anyMatch(s.NotResource, arn)
	}
	return len(s.Resource) == 0 || anyMatch(s.Resource, arn)
}

// conditionsCanHold: every condition of the statement can be true for the
// caller's requests (conditions are ANDed).
func (s Statement) conditionsCanHold(c Caller) bool {
	for _, cond := range s.Conditions {
		if !cond.canHold(c) {
			return false
		}
	}
	return true
}

// callerValues are the request context values bucketguard's calls carry, by
// lower-case key; a key mapped to nil is known to be absent.
func (c Caller) callerValues() map[string][]string {
	return map[string][]string{
		"aws:securetransport":  {"true"},
		"aws:principalarn":     c.RoleARNs,
		"aws:principalaccount": {c.Account},
		"aws:principaltype":    {"AssumedRole"},
		"aws:viaawsservice":    {"false"},
		"aws:requestedregion":  {c.Region},
		"s3:resourceaccount":   {c.Account},
		"aws:sourcevpc":        nil,
		"aws:sourcevpce":       nil,
		"aws:vpcsourceip":      nil,
		"aws:calledvia":        nil,
		// The SDK's requests: TLS 1.2 at least (1.2 is the worst case),
		// Signature Version 4 in the Authorization header.
		"s3:tlsversion":       {"1.2"},
		"s3:signatureversion": {"AWS4-HMAC-SHA256"},
		"s3:authtype":         {"REST-HEADER"},
	}
}

// canHold evaluates one condition against the caller where its key's value
// is known; otherwise it may hold.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
func (cond Condition) canHold(c Caller) bool {
	values, known := c.callerValues()[strings.ToLower(cond.Key)]
	if !known {
		return true
	}
	op := cond.Operator
	ifExists := strings.HasSuffix(op, "IfExists")
	if values == nil && strings.HasPrefix(op, "ForAllValues:") {
		// A key absent from the request is an empty set, and every member
		// of an empty set matches: the condition holds.
		return true
	}
	op = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:"), "IfExists")
	if op == "Null" {
		want := len(cond.Values) > 0 && strings.EqualFold(cond.Values[0], "true")
		return want == (values == nil)
	}
	negated := strings.Contains(op, "Not")
	if values == nil {
		// A missing key: a positive operator fails (unless IfExists); a
		// negated one holds.
		return ifExists || negated
	}
	matched := false
	for _, v := range values {
		for _, want := range cond.Values {
			if compare(op, v, want) {
				matched = true
			}
		}
	}
	if negated {
		return !matched
	}
	return matched
}

func compare(op, have, want string) bool {
	switch strings.TrimSuffix(strings.Replace(op, "Not", "", 1), "IgnoreCase") {
	case "StringEquals", "ArnEquals":
		if strings.HasSuffix(op, "IgnoreCase") {
			return strings.EqualFold(have, want)
		}
		return have == want
	case "StringLike", "ArnLike":
		return globMatch(have, want)
	case "Bool":
		return strings.EqualFold(have, want)
	case "NumericEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals":
		h, err1 := strconv.ParseFloat(have, 64)
		w, err2 := strconv.ParseFloat(want, 64)
		if err1 != nil || err2 != nil {
			return true
		}
		switch strings.Replace(op, "Not", "", 1) {
		case "NumericEquals":
			return h == w
		case "NumericLessThan":
			return h < w
		case "NumericLessThanEquals":
			return h <= w
		case "NumericGreaterThan":
			return h > w
		case "NumericGreaterThanEquals":
			return h >= w
		}
	}
	return true // an operator the caller's values cannot rule out
}

// DelegatedAccounts returns the other accounts whose access points the
// document's Allow statements delegate to (s3:DataAccessPointAccount, or
// the account of an s3:DataAccessPointArn): by AWS's rules such a statement
// is not public, but those access points' own policies decide who gets in,
// and bucketguard, in this account, cannot list or judge them.
func (d *Document) DelegatedAccounts(own string) []string {
	var out []string
	add := func(a string) {
		if a != "" && a != own && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, s := range d.Statements {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		for _, c := range s.Conditions {
			switch strings.ToLower(c.Key) {
			case "s3:dataaccesspointaccount":
				for _, v := range c.Values {
					add(v)
				}
			case "s3:dataaccesspointarn":
				for _, v := range c.Values {
					if parts := strings.SplitN(v, ":", 6); len(parts) == 6 {
						add(parts[4])
					}
				}
			}
		}
	}
	return out
}
