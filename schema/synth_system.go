package schema

// synthSystemSDL holds the definitions every Hygraph content API has that do
// not depend on the content model: scalars, shared object and input types,
// system enums, and the system models User, ScheduledOperation and
// ScheduledRelease with their inputs. It is taken from a real Hygraph schema
// (fixtures/hygraph/blog.graphql, 2023) with descriptions left out; blank
// lines separate definitions.
const synthSystemSDL = `
type Aggregate {
  count: Int!
}

input AssetTransformationInput {
  document: DocumentTransformationInput
  image: ImageTransformationInput
  validateOptions: Boolean = false
}

type BatchPayload {
  count: Long!
}

type Color {
  css: String!
  hex: Hex!
  rgba: RGBA!
}

input ColorInput {
  hex: Hex
  rgba: RGBAInput
}

input ConnectPositionInput {
  after: ID
  before: ID
  end: Boolean
  start: Boolean
}

scalar Date

scalar DateTime

enum DocumentFileTypes {
  doc
  docx
  html
  jpg
  odp
  ods
  odt
  pdf
  png
  ppt
  pptx
  svg
  txt
  webp
  xls
  xlsx
}

input DocumentOutputInput {
  format: DocumentFileTypes
}

input DocumentTransformationInput {
  output: DocumentOutputInput
}

type DocumentVersion {
  createdAt: DateTime!
  data: Json
  id: ID!
  revision: Int!
  stage: Stage!
}

scalar Hex

enum ImageFit {
  clip
  crop
  max
  scale
}

input ImageResizeInput {
  fit: ImageFit
  height: Int
  width: Int
}

input ImageTransformationInput {
  resize: ImageResizeInput
}

scalar Json

type Location {
  distance(from: LocationInput!): Float!
  latitude: Float!
  longitude: Float!
}

input LocationInput {
  latitude: Float!
  longitude: Float!
}

scalar Long

interface Node {
  id: ID!
  stage: Stage!
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  pageSize: Int
  startCursor: String
}

input PublishLocaleInput {
  locale: Locale!
  stages: [Stage!]!
}

type RGBA {
  a: RGBATransparency!
  b: RGBAHue!
  g: RGBAHue!
  r: RGBAHue!
}

scalar RGBAHue

input RGBAInput {
  a: RGBATransparency!
  b: RGBAHue!
  g: RGBAHue!
  r: RGBAHue!
}

scalar RGBATransparency

type RichText {
  html: String!
  markdown: String!
  raw: RichTextAST!
  text: String!
}

scalar RichTextAST

type ScheduledOperation implements Node {
  affectedDocuments(
    after: String
    before: String
    first: Int
    forceParentLocale: Boolean
    last: Int
    locales: [Locale!]
    skip: Int
  ): [ScheduledOperationAffectedDocument!]!
  createdAt: DateTime!
  createdBy(
    forceParentLocale: Boolean
    locales: [Locale!]
  ): User
  description: String
  documentInStages(
    includeCurrent: Boolean! = false
    inheritLocale: Boolean! = false
    stages: [Stage!]! = [DRAFT, PUBLISHED]
  ): [ScheduledOperation!]!
  errorMessage: String
  id: ID!
  publishedAt: DateTime
  publishedBy(
    forceParentLocale: Boolean
    locales: [Locale!]
  ): User
  rawPayload: Json!
  release(
    forceParentLocale: Boolean
    locales: [Locale!]
  ): ScheduledRelease
  stage: Stage!
  status: ScheduledOperationStatus!
  updatedAt: DateTime!
  updatedBy(
    forceParentLocale: Boolean
    locales: [Locale!]
  ): User
}

input ScheduledOperationConnectInput {
  position: ConnectPositionInput
  where: ScheduledOperationWhereUniqueInput!
}

type ScheduledOperationConnection {
  aggregate: Aggregate!
  edges: [ScheduledOperationEdge!]!
  pageInfo: PageInfo!
}

input ScheduledOperationCreateManyInlineInput {
  connect: [ScheduledOperationWhereUniqueInput!]
}

input ScheduledOperationCreateOneInlineInput {
  connect: ScheduledOperationWhereUniqueInput
}

type ScheduledOperationEdge {
  cursor: String!
  node: ScheduledOperation!
}

input ScheduledOperationManyWhereInput {
  AND: [ScheduledOperationWhereInput!]
  NOT: [ScheduledOperationWhereInput!]
  OR: [ScheduledOperationWhereInput!]
  _search: String
  createdAt: DateTime
  createdAt_gt: DateTime
  createdAt_gte: DateTime
  createdAt_in: [DateTime]
  createdAt_lt: DateTime
  createdAt_lte: DateTime
  createdAt_not: DateTime
  createdAt_not_in: [DateTime]
  createdBy: UserWhereInput
  description: String
  description_contains: String
  description_ends_with: String
  description_in: [String]
  description_not: String
  description_not_contains: String
  description_not_ends_with: String
  description_not_in: [String]
  description_not_starts_with: String
  description_starts_with: String
  errorMessage: String
  errorMessage_contains: String
  errorMessage_ends_with: String
  errorMessage_in: [String]
  errorMessage_not: String
  errorMessage_not_contains: String
  errorMessage_not_ends_with: String
  errorMessage_not_in: [String]
  errorMessage_not_starts_with: String
  errorMessage_starts_with: String
  id: ID
  id_contains: ID
  id_ends_with: ID
  id_in: [ID]
  id_not: ID
  id_not_contains: ID
  id_not_ends_with: ID
  id_not_in: [ID]
  id_not_starts_with: ID
  id_starts_with: ID
  publishedAt: DateTime
  publishedAt_gt: DateTime
  publishedAt_gte: DateTime
  publishedAt_in: [DateTime]
  publishedAt_lt: DateTime
  publishedAt_lte: DateTime
  publishedAt_not: DateTime
  publishedAt_not_in: [DateTime]
  publishedBy: UserWhereInput
  rawPayload_json_path_exists: String
  rawPayload_value_recursive: Json
  release: ScheduledReleaseWhereInput
  status: ScheduledOperationStatus
  status_in: [ScheduledOperationStatus]
  status_not: ScheduledOperationStatus
  status_not_in: [ScheduledOperationStatus]
  updatedAt: DateTime
  updatedAt_gt: DateTime
  updatedAt_gte: DateTime
  updatedAt_in: [DateTime]
  updatedAt_lt: DateTime
  updatedAt_lte: DateTime
  updatedAt_not: DateTime
  updatedAt_not_in: [DateTime]
  updatedBy: UserWhereInput
}

enum ScheduledOperationOrderByInput {
  createdAt_ASC
  createdAt_DESC
  description_ASC
  description_DESC
  errorMessage_ASC
  errorMessage_DESC
  id_ASC
  id_DESC
  publishedAt_ASC
  publishedAt_DESC
  status_ASC
  status_DESC
  updatedAt_ASC
  updatedAt_DESC
}

enum ScheduledOperationStatus {
  CANCELED
  COMPLETED
  FAILED
  IN_PROGRESS
  PENDING
}

input ScheduledOperationUpdateManyInlineInput {
  connect: [ScheduledOperationConnectInput!]
  disconnect: [ScheduledOperationWhereUniqueInput!]
  set: [ScheduledOperationWhereUniqueInput!]
}

input ScheduledOperationUpdateOneInlineInput {
  connect: ScheduledOperationWhereUniqueInput
  disconnect: Boolean
}

input ScheduledOperationWhereInput {
  AND: [ScheduledOperationWhereInput!]
  NOT: [ScheduledOperationWhereInput!]
  OR: [ScheduledOperationWhereInput!]
  _search: String
  createdAt: DateTime
  createdAt_gt: DateTime
  createdAt_gte: DateTime
  createdAt_in: [DateTime]
  createdAt_lt: DateTime
  createdAt_lte: DateTime
  createdAt_not: DateTime
  createdAt_not_in: [DateTime]
  createdBy: UserWhereInput
  description: String
  description_contains: String
  description_ends_with: String
  description_in: [String]
  description_not: String
  description_not_contains: String
  description_not_ends_with: String
  description_not_in: [String]
  description_not_starts_with: String
  description_starts_with: String
  errorMessage: String
  errorMessage_contains: String
  errorMessage_ends_with: String
  errorMessage_in: [String]
  errorMessage_not: String
  errorMessage_not_contains: String
  errorMessage_not_ends_with: String
  errorMessage_not_in: [String]
  errorMessage_not_starts_with: String
  errorMessage_starts_with: String
  id: ID
  id_contains: ID
  id_ends_with: ID
  id_in: [ID]
  id_not: ID
  id_not_contains: ID
  id_not_ends_with: ID
  id_not_in: [ID]
  id_not_starts_with: ID
  id_starts_with: ID
  publishedAt: DateTime
  publishedAt_gt: DateTime
  publishedAt_gte: DateTime
  publishedAt_in: [DateTime]
  publishedAt_lt: DateTime
  publishedAt_lte: DateTime
  publishedAt_not: DateTime
  publishedAt_not_in: [DateTime]
  publishedBy: UserWhereInput
  rawPayload_json_path_exists: String
  rawPayload_value_recursive: Json
  release: ScheduledReleaseWhereInput
  status: ScheduledOperationStatus
  status_in: [ScheduledOperationStatus]
  status_not: ScheduledOperationStatus
  status_not_in: [ScheduledOperationStatus]
  updatedAt: DateTime
  updatedAt_gt: DateTime
  updatedAt_gte: DateTime
  updatedAt_in: [DateTime]
  updatedAt_lt: DateTime
  updatedAt_lte: DateTime
  updatedAt_not: DateTime
  updatedAt_not_in: [DateTime]
  updatedBy: UserWhereInput
}

input ScheduledOperationWhereUniqueInput {
  id: ID
}

type ScheduledRelease implements Node {
  createdAt: DateTime!
  createdBy(
    forceParentLocale: Boolean
    locales: [Locale!]
  ): User
  description: String
  documentInStages(
    includeCurrent: Boolean! = false
    inheritLocale: Boolean! = false
    stages: [Stage!]! = [DRAFT, PUBLISHED]
  ): [ScheduledRelease!]!
  errorMessage: String
  id: ID!
  isActive: Boolean!
  isImplicit: Boolean!
  operations(
    after: String
    before: String
    first: Int
    forceParentLocale: Boolean
    last: Int
    locales: [Locale!]
    orderBy: ScheduledOperationOrderByInput
    skip: Int
    where: ScheduledOperationWhereInput
  ): [ScheduledOperation!]!
  publishedAt: DateTime
  publishedBy(
    forceParentLocale: Boolean
    locales: [Locale!]
  ): User
  releaseAt: DateTime
  stage: Stage!
  status: ScheduledReleaseStatus!
  title: String
  updatedAt: DateTime!
  updatedBy(
    forceParentLocale: Boolean
    locales: [Locale!]
  ): User
}

input ScheduledReleaseConnectInput {
  position: ConnectPositionInput
  where: ScheduledReleaseWhereUniqueInput!
}

type ScheduledReleaseConnection {
  aggregate: Aggregate!
  edges: [ScheduledReleaseEdge!]!
  pageInfo: PageInfo!
}

input ScheduledReleaseCreateInput {
  createdAt: DateTime
  description: String
  errorMessage: String
  isActive: Boolean = true
  releaseAt: DateTime
  title: String
  updatedAt: DateTime
}

input ScheduledReleaseCreateManyInlineInput {
  connect: [ScheduledReleaseWhereUniqueInput!]
  create: [ScheduledReleaseCreateInput!]
}

input ScheduledReleaseCreateOneInlineInput {
  connect: ScheduledReleaseWhereUniqueInput
  create: ScheduledReleaseCreateInput
}

type ScheduledReleaseEdge {
  cursor: String!
  node: ScheduledRelease!
}

input ScheduledReleaseManyWhereInput {
  AND: [ScheduledReleaseWhereInput!]
  NOT: [ScheduledReleaseWhereInput!]
  OR: [ScheduledReleaseWhereInput!]
  _search: String
  createdAt: DateTime
  createdAt_gt: DateTime
  createdAt_gte: DateTime
  createdAt_in: [DateTime]
  createdAt_lt: DateTime
  createdAt_lte: DateTime
  createdAt_not: DateTime
  createdAt_not_in: [DateTime]
  createdBy: UserWhereInput
  description: String
  description_contains: String
  description_ends_with: String
  description_in: [String]
  description_not: String
  description_not_contains: String
  description_not_ends_with: String
  description_not_in: [String]
  description_not_starts_with: String
  description_starts_with: String
  errorMessage: String
  errorMessage_contains: String
  errorMessage_ends_with: String
  errorMessage_in: [String]
  errorMessage_not: String
  errorMessage_not_contains: String
  errorMessage_not_ends_with: String
  errorMessage_not_in: [String]
  errorMessage_not_starts_with: String
  errorMessage_starts_with: String
  id: ID
  id_contains: ID
  id_ends_with: ID
  id_in: [ID]
  id_not: ID
  id_not_contains: ID
  id_not_ends_with: ID
  id_not_in: [ID]
  id_not_starts_with: ID
  id_starts_with: ID
  isActive: Boolean
  isActive_not: Boolean
  isImplicit: Boolean
  isImplicit_not: Boolean
  operations_every: ScheduledOperationWhereInput
  operations_none: ScheduledOperationWhereInput
  operations_some: ScheduledOperationWhereInput
  publishedAt: DateTime
  publishedAt_gt: DateTime
  publishedAt_gte: DateTime
  publishedAt_in: [DateTime]
  publishedAt_lt: DateTime
  publishedAt_lte: DateTime
  publishedAt_not: DateTime
  publishedAt_not_in: [DateTime]
  publishedBy: UserWhereInput
  releaseAt: DateTime
  releaseAt_gt: DateTime
  releaseAt_gte: DateTime
  releaseAt_in: [DateTime]
  releaseAt_lt: DateTime
  releaseAt_lte: DateTime
  releaseAt_not: DateTime
  releaseAt_not_in: [DateTime]
  status: ScheduledReleaseStatus
  status_in: [ScheduledReleaseStatus]
  status_not: ScheduledReleaseStatus
  status_not_in: [ScheduledReleaseStatus]
  title: String
  title_contains: String
  title_ends_with: String
  title_in: [String]
  title_not: String
  title_not_contains: String
  title_not_ends_with: String
  title_not_in: [String]
  title_not_starts_with: String
  title_starts_with: String
  updatedAt: DateTime
  updatedAt_gt: DateTime
  updatedAt_gte: DateTime
  updatedAt_in: [DateTime]
  updatedAt_lt: DateTime
  updatedAt_lte: DateTime
  updatedAt_not: DateTime
  updatedAt_not_in: [DateTime]
  updatedBy: UserWhereInput
}

enum ScheduledReleaseOrderByInput {
  createdAt_ASC
  createdAt_DESC
  description_ASC
  description_DESC
  errorMessage_ASC
  errorMessage_DESC
  id_ASC
  id_DESC
  isActive_ASC
  isActive_DESC
  isImplicit_ASC
  isImplicit_DESC
  publishedAt_ASC
  publishedAt_DESC
  releaseAt_ASC
  releaseAt_DESC
  status_ASC
  status_DESC
  title_ASC
  title_DESC
  updatedAt_ASC
  updatedAt_DESC
}

enum ScheduledReleaseStatus {
  COMPLETED
  FAILED
  IN_PROGRESS
  PENDING
}

input ScheduledReleaseUpdateInput {
  description: String
  errorMessage: String
  isActive: Boolean
  releaseAt: DateTime
  title: String
}

input ScheduledReleaseUpdateManyInlineInput {
  connect: [ScheduledReleaseConnectInput!]
  create: [ScheduledReleaseCreateInput!]
  delete: [ScheduledReleaseWhereUniqueInput!]
  disconnect: [ScheduledReleaseWhereUniqueInput!]
  set: [ScheduledReleaseWhereUniqueInput!]
  update: [ScheduledReleaseUpdateWithNestedWhereUniqueInput!]
  upsert: [ScheduledReleaseUpsertWithNestedWhereUniqueInput!]
}

input ScheduledReleaseUpdateManyInput {
  description: String
  errorMessage: String
  isActive: Boolean
  releaseAt: DateTime
  title: String
}

input ScheduledReleaseUpdateManyWithNestedWhereInput {
  data: ScheduledReleaseUpdateManyInput!
  where: ScheduledReleaseWhereInput!
}

input ScheduledReleaseUpdateOneInlineInput {
  connect: ScheduledReleaseWhereUniqueInput
  create: ScheduledReleaseCreateInput
  delete: Boolean
  disconnect: Boolean
  update: ScheduledReleaseUpdateWithNestedWhereUniqueInput
  upsert: ScheduledReleaseUpsertWithNestedWhereUniqueInput
}

input ScheduledReleaseUpdateWithNestedWhereUniqueInput {
  data: ScheduledReleaseUpdateInput!
  where: ScheduledReleaseWhereUniqueInput!
}

input ScheduledReleaseUpsertInput {
  create: ScheduledReleaseCreateInput!
  update: ScheduledReleaseUpdateInput!
}

input ScheduledReleaseUpsertWithNestedWhereUniqueInput {
  data: ScheduledReleaseUpsertInput!
  where: ScheduledReleaseWhereUniqueInput!
}

input ScheduledReleaseWhereInput {
  AND: [ScheduledReleaseWhereInput!]
  NOT: [ScheduledReleaseWhereInput!]
  OR: [ScheduledReleaseWhereInput!]
  _search: String
  createdAt: DateTime
  createdAt_gt: DateTime
  createdAt_gte: DateTime
  createdAt_in: [DateTime]
  createdAt_lt: DateTime
  createdAt_lte: DateTime
  createdAt_not: DateTime
  createdAt_not_in: [DateTime]
  createdBy: UserWhereInput
  description: String
  description_contains: String
  description_ends_with: String
  description_in: [String]
  description_not: String
  description_not_contains: String
  description_not_ends_with: String
  description_not_in: [String]
  description_not_starts_with: String
  description_starts_with: String
  errorMessage: String
  errorMessage_contains: String
  errorMessage_ends_with: String
  errorMessage_in: [String]
  errorMessage_not: String
  errorMessage_not_contains: String
  errorMessage_not_ends_with: String
  errorMessage_not_in: [String]
  errorMessage_not_starts_with: String
  errorMessage_starts_with: String
  id: ID
  id_contains: ID
  id_ends_with: ID
  id_in: [ID]
  id_not: ID
  id_not_contains: ID
  id_not_ends_with: ID
  id_not_in: [ID]
  id_not_starts_with: ID
  id_starts_with: ID
  isActive: Boolean
  isActive_not: Boolean
  isImplicit: Boolean
  isImplicit_not: Boolean
  operations_every: ScheduledOperationWhereInput
  operations_none: ScheduledOperationWhereInput
  operations_some: ScheduledOperationWhereInput
  publishedAt: DateTime
  publishedAt_gt: DateTime
  publishedAt_gte: DateTime
  publishedAt_in: [DateTime]
  publishedAt_lt: DateTime
  publishedAt_lte: DateTime
  publishedAt_not: DateTime
  publishedAt_not_in: [DateTime]
  publishedBy: UserWhereInput
  releaseAt: DateTime
  releaseAt_gt: DateTime
  releaseAt_gte: DateTime
  releaseAt_in: [DateTime]
  releaseAt_lt: DateTime
  releaseAt_lte: DateTime
  releaseAt_not: DateTime
  releaseAt_not_in: [DateTime]
  status: ScheduledReleaseStatus
  status_in: [ScheduledReleaseStatus]
  status_not: ScheduledReleaseStatus
  status_not_in: [ScheduledReleaseStatus]
  title: String
  title_contains: String
  title_ends_with: String
  title_in: [String]
  title_not: String
  title_not_contains: String
  title_not_ends_with: String
  title_not_in: [String]
  title_not_starts_with: String
  title_starts_with: String
  updatedAt: DateTime
  updatedAt_gt: DateTime
  updatedAt_gte: DateTime
  updatedAt_in: [DateTime]
  updatedAt_lt: DateTime
  updatedAt_lte: DateTime
  updatedAt_not: DateTime
  updatedAt_not_in: [DateTime]
  updatedBy: UserWhereInput
}

input ScheduledReleaseWhereUniqueInput {
  id: ID
}

enum Stage {
  DRAFT
  PUBLISHED
}

enum SystemDateTimeFieldVariation {
  BASE
  COMBINED
  LOCALIZATION
}

input UnpublishLocaleInput {
  locale: Locale!
  stages: [Stage!]!
}

type User implements Node {
  createdAt: DateTime!
  documentInStages(
    includeCurrent: Boolean! = false
    inheritLocale: Boolean! = false
    stages: [Stage!]! = [DRAFT, PUBLISHED]
  ): [User!]!
  id: ID!
  isActive: Boolean!
  kind: UserKind!
  name: String!
  picture: String
  publishedAt: DateTime
  stage: Stage!
  updatedAt: DateTime!
}

input UserConnectInput {
  position: ConnectPositionInput
  where: UserWhereUniqueInput!
}

type UserConnection {
  aggregate: Aggregate!
  edges: [UserEdge!]!
  pageInfo: PageInfo!
}

input UserCreateManyInlineInput {
  connect: [UserWhereUniqueInput!]
}

input UserCreateOneInlineInput {
  connect: UserWhereUniqueInput
}

type UserEdge {
  cursor: String!
  node: User!
}

enum UserKind {
  APP_TOKEN
  MEMBER
  PAT
  PUBLIC
  WEBHOOK
}

input UserManyWhereInput {
  AND: [UserWhereInput!]
  NOT: [UserWhereInput!]
  OR: [UserWhereInput!]
  _search: String
  createdAt: DateTime
  createdAt_gt: DateTime
  createdAt_gte: DateTime
  createdAt_in: [DateTime]
  createdAt_lt: DateTime
  createdAt_lte: DateTime
  createdAt_not: DateTime
  createdAt_not_in: [DateTime]
  documentInStages_every: UserWhereStageInput
  documentInStages_none: UserWhereStageInput
  documentInStages_some: UserWhereStageInput
  id: ID
  id_contains: ID
  id_ends_with: ID
  id_in: [ID]
  id_not: ID
  id_not_contains: ID
  id_not_ends_with: ID
  id_not_in: [ID]
  id_not_starts_with: ID
  id_starts_with: ID
  isActive: Boolean
  isActive_not: Boolean
  kind: UserKind
  kind_in: [UserKind]
  kind_not: UserKind
  kind_not_in: [UserKind]
  name: String
  name_contains: String
  name_ends_with: String
  name_in: [String]
  name_not: String
  name_not_contains: String
  name_not_ends_with: String
  name_not_in: [String]
  name_not_starts_with: String
  name_starts_with: String
  picture: String
  picture_contains: String
  picture_ends_with: String
  picture_in: [String]
  picture_not: String
  picture_not_contains: String
  picture_not_ends_with: String
  picture_not_in: [String]
  picture_not_starts_with: String
  picture_starts_with: String
  publishedAt: DateTime
  publishedAt_gt: DateTime
  publishedAt_gte: DateTime
  publishedAt_in: [DateTime]
  publishedAt_lt: DateTime
  publishedAt_lte: DateTime
  publishedAt_not: DateTime
  publishedAt_not_in: [DateTime]
  updatedAt: DateTime
  updatedAt_gt: DateTime
  updatedAt_gte: DateTime
  updatedAt_in: [DateTime]
  updatedAt_lt: DateTime
  updatedAt_lte: DateTime
  updatedAt_not: DateTime
  updatedAt_not_in: [DateTime]
}

enum UserOrderByInput {
  createdAt_ASC
  createdAt_DESC
  id_ASC
  id_DESC
  isActive_ASC
  isActive_DESC
  kind_ASC
  kind_DESC
  name_ASC
  name_DESC
  picture_ASC
  picture_DESC
  publishedAt_ASC
  publishedAt_DESC
  updatedAt_ASC
  updatedAt_DESC
}

input UserUpdateManyInlineInput {
  connect: [UserConnectInput!]
  disconnect: [UserWhereUniqueInput!]
  set: [UserWhereUniqueInput!]
}

input UserUpdateOneInlineInput {
  connect: UserWhereUniqueInput
  disconnect: Boolean
}

input UserWhereComparatorInput {
  outdated_to: Boolean
}

input UserWhereInput {
  AND: [UserWhereInput!]
  NOT: [UserWhereInput!]
  OR: [UserWhereInput!]
  _search: String
  createdAt: DateTime
  createdAt_gt: DateTime
  createdAt_gte: DateTime
  createdAt_in: [DateTime]
  createdAt_lt: DateTime
  createdAt_lte: DateTime
  createdAt_not: DateTime
  createdAt_not_in: [DateTime]
  documentInStages_every: UserWhereStageInput
  documentInStages_none: UserWhereStageInput
  documentInStages_some: UserWhereStageInput
  id: ID
  id_contains: ID
  id_ends_with: ID
  id_in: [ID]
  id_not: ID
  id_not_contains: ID
  id_not_ends_with: ID
  id_not_in: [ID]
  id_not_starts_with: ID
  id_starts_with: ID
  isActive: Boolean
  isActive_not: Boolean
  kind: UserKind
  kind_in: [UserKind]
  kind_not: UserKind
  kind_not_in: [UserKind]
  name: String
  name_contains: String
  name_ends_with: String
  name_in: [String]
  name_not: String
  name_not_contains: String
  name_not_ends_with: String
  name_not_in: [String]
  name_not_starts_with: String
  name_starts_with: String
  picture: String
  picture_contains: String
  picture_ends_with: String
  picture_in: [String]
  picture_not: String
  picture_not_contains: String
  picture_not_ends_with: String
  picture_not_in: [String]
  picture_not_starts_with: String
  picture_starts_with: String
  publishedAt: DateTime
  publishedAt_gt: DateTime
  publishedAt_gte: DateTime
  publishedAt_in: [DateTime]
  publishedAt_lt: DateTime
  publishedAt_lte: DateTime
  publishedAt_not: DateTime
  publishedAt_not_in: [DateTime]
  updatedAt: DateTime
  updatedAt_gt: DateTime
  updatedAt_gte: DateTime
  updatedAt_in: [DateTime]
  updatedAt_lt: DateTime
  updatedAt_lte: DateTime
  updatedAt_not: DateTime
  updatedAt_not_in: [DateTime]
}

input UserWhereStageInput {
  AND: [UserWhereStageInput!]
  NOT: [UserWhereStageInput!]
  OR: [UserWhereStageInput!]
  compareWithParent: UserWhereComparatorInput
  stage: Stage
}

input UserWhereUniqueInput {
  id: ID
}

type Version {
  createdAt: DateTime!
  id: ID!
  revision: Int!
  stage: Stage!
}

input VersionWhereInput {
  id: ID!
  revision: Int!
  stage: Stage!
}

enum _FilterKind {
  AND
  NOT
  OR
  contains
  contains_all
  contains_none
  contains_some
  ends_with
  eq
  eq_not
  gt
  gte
  in
  json_path_exists
  json_value_recursive
  lt
  lte
  not_contains
  not_ends_with
  not_in
  not_starts_with
  relational_every
  relational_none
  relational_single
  relational_some
  search
  starts_with
  union_empty
  union_every
  union_none
  union_single
  union_some
}

enum _MutationInputFieldKind {
  enum
  relation
  richText
  richTextWithEmbeds
  scalar
  union
  virtual
}

enum _MutationKind {
  create
  delete
  deleteMany
  publish
  publishMany
  schedulePublish
  scheduleUnpublish
  unpublish
  unpublishMany
  update
  updateMany
  upsert
}

enum _OrderDirection {
  asc
  desc
}

enum _RelationInputCardinality {
  many
  one
}

enum _RelationInputKind {
  create
  update
}

enum _RelationKind {
  regular
  union
}

enum _SystemDateTimeFieldVariation {
  base
  combined
  localization
}
`
