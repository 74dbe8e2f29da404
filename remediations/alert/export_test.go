package alert

import "github.com/bucketguard/bucketguard/remediations"

// Size of the message for r before any cut.
func SizeUncut(r remediations.Result) int { return build(document(r)).Size() }

// Publish is the SNS call of a delivery.
var Publish = publish
