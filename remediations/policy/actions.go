package policy

import "strings"

// S3 action names start with a verb. Get, List and Describe read; every other
// verb writes: it changes data (Put, Delete, Abort, Restore, Replicate, ...)
// or permissions (PutBucketAcl, PutBucketPolicy, ...). An unknown verb counts
// as a write, the safer side.
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
var (
	readVerbs  = []string{"get", "list", "describe"}
	writeVerbs = []string{"put", "delete", "abort", "restore", "create", "replicate", "bypass", "update", "write",
		"objectowneroverride", "pause", "submit", "initiate", "tag", "untag", "associate", "dissociate"}
)

// access says whether the statement's actions include reads and writes of S3.
func (s Statement) access() (read, write bool) {
	if s.HasNotAction {
		// NotAction grants every action it does not list.
		read, write = true, true
		var covered = map[string]bool{}
		for _, a := range s.NotAction {
			svc, name, ok := splitAction(a)
			// Only an entry that covers S3's own service keeps S3's actions
			// out: "s3-object-lambda:*" (or "s3-*:*") leaves every s3:
			// action granted.
			if !ok || !globMatch("s3", strings.ToLower(svc)) {
				continue
			}
			if name == "*" {
				return false, false
			}
			for _, v := range readVerbs {
				if strings.EqualFold(name, v+"*") {
					covered[v] = true
				}
			}
		}
		read = len(covered) < len(readVerbs)
		return read, write
	}
	for _, a := range s.Action {
		r, w := actionAccess(a)
		read, write = read || r, write || w
	}
	return read, write
}

func splitAction(a string) (svc, name string, ok bool) {
	if a == "*" {
		return "*", "*", true
	}
	svc, name, ok = strings.Cut(a, ":")
	return svc, name, ok
}

// serviceMatchesS3 reports whether an action's service can be S3's: s3, or
// s3-object-lambda, the service of an Object Lambda access point's actions.
func serviceMatchesS3(svc string) bool {
	svc = strings.ToLower(svc)
	return globMatch("s3", svc) || globMatch("s3-object-lambda", svc)
}

// actionAccess classifies one Action entry, which may hold wildcards.
func actionAccess(a string) (read, write bool) {
	svc, name, ok := splitAction(a)
	if !ok || !serviceMatchesS3(svc) {
		return false, false
	}
	name = strings.ToLower(name)
	lit := name
	if i := strings.IndexAny(name, "*?"); i >= 0 {
		lit = name[:i]
	} else {
		for _, v := range readVerbs {
			if strings.HasPrefix(name, v) {
				return true, false
			}
		}
		return false, true
	}
	// A pattern can reach a verb when its literal head and the verb agree
	// as far as both go.
	compatible := func(verb string) bool {
		return strings.HasPrefix(verb, lit) || strings.HasPrefix(lit, verb)
	}
	for _, v := range readVerbs {
		read = read || compatible(v)
	}
	for _, v := range writeVerbs {
		write = write || compatible(v)
	}
	return read, write
}

// globMatch matches IAM-style wildcards: * any run, ? one character. It
// backtracks only to the last star, so it runs in O(len(s)*len(pattern)) even
// on hostile patterns.
func globMatch(s, pattern string) bool {
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pattern) && (pattern[pi] == '?' || pattern[pi] == s[si]):
			si++
			pi++
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}
