// Package gen generates files of the tree from protocol.Fields: FieldsJS is
// web/static/fields.js, the practice view's layout. The fieldsjs command
// writes it (go generate ./web); web's tests fail when the file is stale.
package gen
