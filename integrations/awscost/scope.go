package awscost

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/383project/opsbot/integrations"
)

// ErrNoScope is returned (wrapped) for a scope that selects nothing: without
// a filter Cost Explorer would report the whole payer account, every
// client's costs at once, as if they were one client's.
var ErrNoScope = errors.New("cost scope names neither a linked account nor a cost tag")

// filter is Cost Explorer's expression for scope: the LINKED_ACCOUNT
// dimension, the tag, or both joined with And.
func filter(scope integrations.CostScope) (*types.Expression, error) {
	if scope.TagKey == "" && scope.TagValue != "" {
		return nil, fmt.Errorf("cost tag value %q has no key", scope.TagValue)
	}
	if scope.TagKey != "" && scope.TagValue == "" {
		// An empty value would match untagged resources, not one client.
		return nil, fmt.Errorf("cost tag %q has no value", scope.TagKey)
	}
	var parts []types.Expression
	if scope.LinkedAccount != "" {
		parts = append(parts, types.Expression{Dimensions: &types.DimensionValues{
			Key: types.DimensionLinkedAccount, Values: []string{scope.LinkedAccount}}})
	}
	if scope.TagKey != "" {
		parts = append(parts, types.Expression{Tags: &types.TagValues{
			Key: &scope.TagKey, Values: []string{scope.TagValue}, MatchOptions: []types.MatchOption{types.MatchOptionEquals}}})
	}
	switch len(parts) {
	case 0:
		return nil, ErrNoScope
	case 1:
		return &parts[0], nil
	default:
		return &types.Expression{And: parts}, nil
	}
}

// describe names scope in errors and logs: "account 111122223333",
// "tag client=acme" or both.
func describe(scope integrations.CostScope) string {
	var s string
	if scope.LinkedAccount != "" {
		s = "account " + scope.LinkedAccount
	}
	if scope.TagKey != "" {
		if s != "" {
			s += " and "
		}
		s += "tag " + scope.TagKey + "=" + scope.TagValue
	}
	if s == "" {
		s = "no scope"
	}
	return s
}
