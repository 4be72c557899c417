package stagesync

// DestSpillAt lets the external tests run with spilled destination indexes.
var DestSpillAt = &destSpillAt
