// Package schema reads, writes and reasons about Hygraph content-API schemas.
//
// It loads SDL files (as Hygraph exports them) into a gqlparser *ast.Schema,
// introspects live endpoints into SDL, discovers the content model (models,
// components, enums, unions, locales, stages) by Hygraph's naming conventions,
// diffs two stage schemas for the purposes of a content sync, scaffolds
// genqlient-ready .graphql operations for chosen models, and synthesizes a
// complete Hygraph-convention SDL from a compact model description (the inverse
// of discovery).
package schema
