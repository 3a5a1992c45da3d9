//! Where things are in a YAML file: JSON-pointer paths (`/entityMappings/0/fieldMappings/1/columnName`)
//! to the byte spans of each node's key and value, built from saphyr-parser's event stream; and
//! [`QueryMap`], which maps byte offsets in the decoded `query` string back to the file.
//!
//! All spans are byte offsets into the original text, byte order mark included. saphyr's markers
//! count characters; they are converted here.

use crate::diagnostics::Span;
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::borrow::Cow;
use std::collections::HashMap;

/// Collections nested deeper than this are not indexed (their spans fall back to an ancestor).
const MAX_DEPTH: usize = 200;
/// A key that is not a scalar (a complex key or an unresolved alias); never a real path segment.
const OPAQUE_KEY: &str = "\u{0}";

/// How a scalar is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|` block.
    Literal,
    /// `>` block.
    Folded,
}

impl From<ScalarStyle> for Style {
    fn from(s: ScalarStyle) -> Style {
        match s {
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Scalar(Style),
    Mapping,
    Sequence,
    /// `*name`; [`Node::origin`] describes the anchored node.
    Alias,
}

/// One YAML node at a path.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The key's span, when the node is a mapping value.
    pub key: Option<Span>,
    /// The value's span: a scalar as written (quotes included; a block scalar from its first
    /// content character), a collection from its start to the end of its last child.
    pub value: Span,
    pub kind: NodeKind,
    /// The decoded text of a scalar, or of the scalar an alias refers to.
    pub scalar: Option<String>,
    /// For an alias: the span and kind of the anchored node.
    pub origin: Option<(Span, NodeKind)>,
}

/// A key that appears twice in one mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateKey {
    /// Path of the mapping.
    pub mapping: String,
    pub key: String,
    pub first: Span,
    pub second: Span,
}

/// A syntax error found by saphyr.
#[derive(Clone, Debug, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub offset: usize,
}

/// Paths of a YAML document to the spans of their nodes.
#[derive(Clone, Debug, Default)]
pub struct YamlMap {
    nodes: HashMap<String, Node>,
    /// Keys defined twice in a mapping, in file order.
    pub duplicates: Vec<DuplicateKey>,
    /// The first syntax error, if any; nodes before it are indexed.
    pub error: Option<YamlError>,
    /// The start of a second document (`---` after the first one), if any.
    pub extra_document: Option<Span>,
    doc_start: usize,
}

/// Escapes one JSON-pointer segment (`~` -> `~0`, `/` -> `~1`).
pub fn escape_segment(s: &str) -> Cow<'_, str> {
    if s.contains(['~', '/']) {
        Cow::Owned(s.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(s)
    }
}

fn join(parent: &str, segment: &str) -> String {
    let seg = escape_segment(segment);
    let mut p = String::with_capacity(parent.len() + 1 + seg.len());
    p.push_str(parent);
    p.push('/');
    p.push_str(&seg);
    p
}

/// Converts saphyr's character indices to byte offsets.
struct CharOffsets {
    /// Byte offset of each character index (plus the end); `None` for ASCII text.
    table: Option<Vec<usize>>,
    len: usize,
}

impl CharOffsets {
    fn new(text: &str) -> CharOffsets {
        let table = (!text.is_ascii()).then(|| {
            let mut t: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            t.push(text.len());
            t
        });
        CharOffsets {
            table,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.table {
            None => char_index.min(self.len),
            Some(t) => t.get(char_index).copied().unwrap_or(self.len),
        }
    }
}

enum Frame {
    Map {
        ptr: String,
        /// The key whose value comes next; `None` while a key is expected.
        key: Option<(String, Span)>,
        seen: HashMap<String, Span>,
        anchor: usize,
        end: usize,
    },
    Seq {
        ptr: String,
        index: usize,
        anchor: usize,
        end: usize,
    },
    /// A subtree that is not indexed (a complex key, or too deep); `depth` counts nested starts.
    Skip {
        depth: usize,
        is_key: bool,
        start: usize,
        end: usize,
    },
}

enum Slot {
    Key,
    Value { ptr: String, key: Option<Span> },
    Skip,
}

#[derive(Default)]
struct Builder {
    nodes: HashMap<String, Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    duplicates: Vec<DuplicateKey>,
    root_done: bool,
    doc_start: Option<usize>,
}

impl Builder {
    fn slot(&mut self) -> Slot {
        match self.stack.last_mut() {
            None if self.root_done => Slot::Skip,
            None => Slot::Value {
                ptr: String::new(),
                key: None,
            },
            Some(Frame::Map { key: None, .. }) => Slot::Key,
            Some(Frame::Map { ptr, key, .. }) => {
                let (name, span) = key.take().unwrap_or_default();
                Slot::Value {
                    ptr: join(ptr, &name),
                    key: Some(span),
                }
            }
            Some(Frame::Seq { ptr, index, .. }) => {
                let p = join(ptr, &index.to_string());
                *index += 1;
                Slot::Value { ptr: p, key: None }
            }
            Some(Frame::Skip { .. }) => Slot::Skip,
        }
    }

    fn extend_end(&mut self, end: usize) {
        if let Some(
            Frame::Map { end: e, .. } | Frame::Seq { end: e, .. } | Frame::Skip { end: e, .. },
        ) = self.stack.last_mut()
        {
            *e = (*e).max(end);
        }
    }

    fn set_key(&mut self, name: String, span: Span) {
        if let Some(Frame::Map { ptr, key, seen, .. }) = self.stack.last_mut() {
            if name != OPAQUE_KEY {
                if let Some(first) = seen.get(&name) {
                    self.duplicates.push(DuplicateKey {
                        mapping: ptr.clone(),
                        key: name.clone(),
                        first: *first,
                        second: span,
                    });
                } else {
                    seen.insert(name.clone(), span);
                }
            }
            *key = Some((name, span));
        }
    }

    fn leaf(&mut self, node: Node, anchor: usize) {
        let span = node.value;
        match self.slot() {
            Slot::Key => {
                let name = node.scalar.clone().unwrap_or_else(|| OPAQUE_KEY.into());
                self.set_key(name, span);
            }
            Slot::Value { ptr, key } => {
                let node = Node { key, ..node };
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                if ptr.is_empty() {
                    self.root_done = true;
                    self.doc_start.get_or_insert(span.start);
                }
                self.nodes.insert(ptr, node);
            }
            Slot::Skip => {}
        }
        self.extend_end(span.end);
    }

    fn scalar(&mut self, value: String, style: ScalarStyle, anchor: usize, span: Span) {
        let node = Node {
            key: None,
            value: span,
            kind: NodeKind::Scalar(style.into()),
            scalar: Some(value),
            origin: None,
        };
        self.leaf(node, anchor);
    }

    fn alias(&mut self, id: usize, span: Span) {
        let target = self.anchors.get(&id);
        let node = Node {
            key: None,
            value: span,
            kind: NodeKind::Alias,
            scalar: target.and_then(|t| t.scalar.clone()),
            origin: target.map(|t| (t.value, t.kind)),
        };
        self.leaf(node, 0);
    }

    fn start(&mut self, mapping: bool, anchor: usize, span: Span) {
        if let Some(Frame::Skip { depth, .. }) = self.stack.last_mut() {
            *depth += 1;
            return;
        }
        let slot = self.slot();
        let too_deep = self.stack.len() >= MAX_DEPTH;
        match slot {
            Slot::Value { ptr, key } if !too_deep => {
                if ptr.is_empty() {
                    self.doc_start.get_or_insert(span.start);
                }
                let kind = if mapping {
                    NodeKind::Mapping
                } else {
                    NodeKind::Sequence
                };
                self.nodes.insert(
                    ptr.clone(),
                    Node {
                        key,
                        value: span,
                        kind,
                        scalar: None,
                        origin: None,
                    },
                );
                self.stack.push(if mapping {
                    Frame::Map {
                        ptr,
                        key: None,
                        seen: HashMap::new(),
                        anchor,
                        end: span.end,
                    }
                } else {
                    Frame::Seq {
                        ptr,
                        index: 0,
                        anchor,
                        end: span.end,
                    }
                });
            }
            slot => self.stack.push(Frame::Skip {
                depth: 0,
                is_key: matches!(slot, Slot::Key),
                start: span.start,
                end: span.end,
            }),
        }
    }

    fn end(&mut self, span: Span) {
        // A block collection ends with an empty event at the next token; only a flow
        // collection's closing bracket belongs to it.
        let closing = if span.end > span.start { span.end } else { 0 };
        if let Some(Frame::Skip { depth, end, .. }) = self.stack.last_mut() {
            if *depth > 0 {
                *depth -= 1;
                *end = (*end).max(closing);
                return;
            }
        }
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let end = match frame {
            Frame::Map {
                ptr, anchor, end, ..
            }
            | Frame::Seq {
                ptr, anchor, end, ..
            } => {
                let end = end.max(closing);
                if let Some(node) = self.nodes.get_mut(&ptr) {
                    node.value.end = end.max(node.value.start);
                    if anchor != 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                }
                if ptr.is_empty() {
                    self.root_done = true;
                }
                end
            }
            Frame::Skip {
                is_key, start, end, ..
            } => {
                let end = end.max(closing);
                if is_key {
                    self.set_key(OPAQUE_KEY.into(), Span::new(start, end.max(start)));
                }
                end
            }
        };
        self.extend_end(end);
    }
}

impl YamlMap {
    /// Indexes the first document of `text`. Never fails: a syntax error stops the index where
    /// it occurs and is kept in [`YamlMap::error`].
    pub fn parse(text: &str) -> YamlMap {
        let offsets = CharOffsets::new(text);
        let mut b = Builder::default();
        let mut error = None;
        let mut extra_document = None;
        let mut documents = 0;
        let mut parser = Parser::new_from_str(text);
        while let Some(event) = parser.next_event() {
            let (event, span) = match event {
                Ok(e) => e,
                Err(e) => {
                    error = Some(YamlError {
                        message: e.info().to_string(),
                        offset: offsets.byte(e.marker().index()),
                    });
                    break;
                }
            };
            let span = Span::new(
                offsets.byte(span.start.index()),
                offsets.byte(span.end.index()),
            );
            let span = Span::new(span.start, span.end.max(span.start));
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        extra_document = Some(span);
                        break;
                    }
                }
                Event::StreamEnd => break,
                Event::Scalar(value, style, anchor, _) => {
                    b.scalar(value.into_owned(), style, anchor, span)
                }
                Event::Alias(id) => b.alias(id, span),
                Event::MappingStart(anchor, _) => b.start(true, anchor, span),
                Event::SequenceStart(anchor, _) => b.start(false, anchor, span),
                Event::MappingEnd | Event::SequenceEnd => b.end(span),
                _ => {}
            }
        }
        let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
        YamlMap {
            nodes: b.nodes,
            duplicates: b.duplicates,
            error,
            extra_document,
            doc_start: b.doc_start.unwrap_or(bom),
        }
    }

    /// The node at a JSON pointer (`""` is the document root).
    pub fn node(&self, pointer: &str) -> Option<&Node> {
        self.nodes.get(pointer)
    }

    pub fn key_span(&self, pointer: &str) -> Option<Span> {
        self.nodes.get(pointer).and_then(|n| n.key)
    }

    pub fn value_span(&self, pointer: &str) -> Option<Span> {
        self.nodes.get(pointer).map(|n| n.value)
    }

    /// Where to point at `pointer`'s value: its span, or the key (else value) of its nearest
    /// indexed ancestor, or the file's start.
    pub fn locate(&self, pointer: &str) -> Span {
        self.value_span(pointer)
            .or_else(|| self.nearest(pointer).map(|(_, n)| n.key.unwrap_or(n.value)))
            .unwrap_or(Span::empty_at(0))
    }

    /// The node at `pointer` or, if it is not indexed (merged in from an alias, nested too
    /// deep), at its nearest indexed ancestor, with that ancestor's path.
    pub fn nearest<'a>(&self, mut pointer: &'a str) -> Option<(&'a str, &Node)> {
        loop {
            if let Some(n) = self.nodes.get(pointer) {
                return Some((pointer, n));
            }
            let cut = pointer.rfind('/')?;
            pointer = &pointer[..cut];
        }
    }

    /// Where the document's content starts (after a byte order mark, comments and `---`).
    pub fn doc_start(&self) -> usize {
        self.doc_start
    }

    /// Number of indexed nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// All indexed paths, sorted.
    pub fn paths(&self) -> Vec<&str> {
        let mut p: Vec<&str> = self.nodes.keys().map(String::as_str).collect();
        p.sort_unstable();
        p
    }
}

/// Maps a byte offset in the decoded `query` string to a byte offset in the file.
///
/// Exact for block scalars (`|`, `>`, with any chomping and indentation indicator) and for plain
/// and quoted scalars (double-quoted escapes and line folding included) whenever re-decoding the
/// source reproduces the query text; otherwise each character is mapped to the nearest matching
/// source character. Offsets inside a character map to the character's start; offsets at or past
/// the end map to the end of the scalar. Results are always within the file.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryMap {
    repr: Repr,
}

#[derive(Clone, Debug, PartialEq)]
enum Repr {
    Identity,
    Table {
        /// File offset of each byte of the decoded text.
        offsets: Vec<usize>,
        /// File offset of the end of the decoded text.
        end: usize,
        exact: bool,
    },
}

impl QueryMap {
    /// For a bare `.kql` file: query offsets are file offsets.
    pub fn identity() -> QueryMap {
        QueryMap {
            repr: Repr::Identity,
        }
    }

    /// Every offset maps to `offset` (a query that has no scalar of its own in the file).
    pub fn constant(offset: usize) -> QueryMap {
        QueryMap {
            repr: Repr::Table {
                offsets: Vec::new(),
                end: offset,
                exact: false,
            },
        }
    }

    /// The map for `decoded`, the value of the scalar `node` of `text`.
    pub fn for_node(text: &str, node: &Node, decoded: &str) -> QueryMap {
        let (span, kind) = match (node.kind, node.origin) {
            (NodeKind::Alias, Some(origin)) => origin,
            (kind, _) => (node.value, kind),
        };
        let span = Span::new(span.start.min(text.len()), span.end.min(text.len()));
        let exact = match kind {
            NodeKind::Scalar(style @ (Style::Literal | Style::Folded)) => {
                block_offsets(text, span, decoded, style == Style::Folded)
            }
            NodeKind::Scalar(style) => flow_offsets(text, span, decoded, style),
            _ => return QueryMap::constant(span.start),
        };
        let (offsets, end, exact) = match exact {
            Some((offsets, end)) => (offsets, end, true),
            None => {
                let (offsets, end) = greedy_offsets(text, span, decoded);
                (offsets, end, false)
            }
        };
        QueryMap {
            repr: Repr::Table {
                offsets,
                end,
                exact,
            },
        }
    }

    /// The file byte offset of byte `query_offset` of the decoded query.
    pub fn to_file(&self, query_offset: usize) -> usize {
        match &self.repr {
            Repr::Identity => query_offset,
            Repr::Table { offsets, end, .. } => offsets.get(query_offset).copied().unwrap_or(*end),
        }
    }

    /// A query span as a file span.
    pub fn to_file_span(&self, span: Span) -> Span {
        let start = self.to_file(span.start);
        let end = if span.end > span.start {
            // The end of the last character, not the start of the next one (which may be on
            // another line).
            self.to_file(span.end - 1).max(start) + 1
        } else {
            start
        };
        Span::new(start, end.max(start))
    }

    /// Whether every offset maps exactly (false for the nearest-match fallback).
    pub fn is_exact(&self) -> bool {
        match &self.repr {
            Repr::Identity => true,
            Repr::Table { exact, .. } => *exact,
        }
    }
}

/// Accumulates the file offset of each decoded byte, checking the decoded text as it goes.
struct MapBuilder<'a> {
    text: &'a str,
    decoded: &'a str,
    offsets: Vec<usize>,
    end: usize,
}

impl<'a> MapBuilder<'a> {
    fn new(text: &'a str, decoded: &'a str, start: usize) -> MapBuilder<'a> {
        MapBuilder {
            text,
            decoded,
            offsets: Vec::with_capacity(decoded.len()),
            end: start,
        }
    }

    fn pos(&self) -> usize {
        self.offsets.len()
    }

    fn rest(&self) -> &'a str {
        &self.decoded[self.pos()..]
    }

    /// `part` appears verbatim both next in the decoded text and at `at` in the file.
    fn verbatim(&mut self, part: &str, at: usize) -> Option<()> {
        if !self.rest().starts_with(part) || self.text.get(at..at + part.len()) != Some(part) {
            return None;
        }
        for (i, c) in part.char_indices() {
            for _ in 0..c.len_utf8() {
                self.offsets.push(at + i);
            }
        }
        self.end = at + part.len();
        Some(())
    }

    /// The decoded character `c` comes from the `len` source bytes at `at` (an escape, a
    /// folded line break).
    fn produced(&mut self, c: char, at: usize, len: usize) -> Option<()> {
        if !self.rest().starts_with(c) {
            return None;
        }
        let at = at.min(self.text.len());
        for _ in 0..c.len_utf8() {
            self.offsets.push(at);
        }
        self.end = (at + len).min(self.text.len());
        Some(())
    }

    fn finish(self) -> Option<(Vec<usize>, usize)> {
        (self.offsets.len() == self.decoded.len()).then_some((self.offsets, self.end))
    }
}

/// Start offsets of the lines of `text`.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    fn start(&self, line: usize) -> Option<usize> {
        self.starts.get(line).copied()
    }

    /// Where line `line`'s content ends: at its `\r\n` or `\n`, or the end of the text.
    fn content_end(&self, line: usize) -> Option<usize> {
        let start = self.start(line)?;
        let mut end = self
            .starts
            .get(line + 1)
            .map(|s| s - 1)
            .unwrap_or(self.text.len());
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        Some(end)
    }

    /// The line break at the end of `line` (its offset and length), or the end of the text.
    fn line_break(&self, line: usize) -> (usize, usize) {
        match self.content_end(line) {
            Some(end) => {
                let next = self.start(line + 1).unwrap_or(self.text.len());
                (end, next - end)
            }
            None => (self.text.len(), 0),
        }
    }
}

fn all_spaces(s: &str) -> bool {
    s.bytes().all(|b| b == b' ')
}

/// Literal and folded block scalars: the span starts at the first content character, after
/// the block's indentation, and each decoded line is a source line without that indentation.
fn block_offsets(
    text: &str,
    span: Span,
    decoded: &str,
    folded: bool,
) -> Option<(Vec<usize>, usize)> {
    let lines = Lines::new(text);
    let leading = decoded.bytes().take_while(|&b| b == b'\n').count();
    if leading == decoded.len() {
        return None;
    }
    let first = lines.line_of(span.start);
    let first_start = lines.start(first)?;
    let indent = span.start - first_start;
    if !all_spaces(&text[first_start..span.start]) {
        return None;
    }
    let mut b = MapBuilder::new(text, decoded, span.start);
    let mut line = first.checked_sub(leading)?;
    // The content of a line of the block, or None where the block has ended.
    let content = |line: usize| -> Option<&str> {
        let start = lines.start(line)?;
        let end = lines.content_end(line)?;
        let raw = &text[start..end];
        if raw.len() <= indent {
            return all_spaces(raw).then_some("");
        }
        all_spaces(&raw[..indent]).then(|| &raw[indent..])
    };

    if !folded {
        let pieces = decoded.split('\n').count();
        for (j, piece) in decoded.split('\n').enumerate() {
            if !piece.is_empty() {
                if content(line)? != piece {
                    return None;
                }
                b.verbatim(piece, lines.start(line)? + indent)?;
            }
            if j + 1 < pieces {
                let (at, len) = lines.line_break(line);
                b.produced('\n', at, len)?;
            }
            line += 1;
        }
        return b.finish();
    }

    for _ in 0..leading {
        let (at, len) = lines.line_break(line);
        b.produced('\n', at, len)?;
        line += 1;
    }
    // (line, starts with white space) of the previous text line.
    let mut prev: Option<(usize, bool)> = None;
    let mut blanks = 0;
    while b.pos() < decoded.len() {
        let Some(c) = content(line) else { break };
        if c.is_empty() {
            blanks += 1;
            line += 1;
            if line >= lines.starts.len() {
                break;
            }
            continue;
        }
        let spaced = c.starts_with([' ', '\t']);
        if let Some((p, p_spaced)) = prev {
            if !p_spaced && !spaced && blanks == 0 {
                let (at, len) = lines.line_break(p);
                b.produced(' ', at, len)?;
            } else {
                let breaks = if !p_spaced && !spaced {
                    blanks
                } else {
                    blanks + 1
                };
                for t in 0..breaks {
                    let (at, len) = lines.line_break(p + t);
                    b.produced('\n', at, len)?;
                }
            }
        }
        b.verbatim(c, lines.start(line)? + indent)?;
        prev = Some((line, spaced));
        blanks = 0;
        line += 1;
    }
    // Chomping: what is left are the final line breaks.
    let last = prev.map(|(l, _)| l).unwrap_or(line);
    let mut t = 0;
    while b.pos() < decoded.len() {
        let (at, len) = lines.line_break(last + t);
        b.produced('\n', at, len)?;
        t += 1;
    }
    b.finish()
}

/// Whether the character at `i` of `s` is preceded by an odd number of backslashes.
fn escaped(s: &str, i: usize) -> bool {
    s[..i].bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Plain, single-quoted and double-quoted scalars: lines are folded (a single line break
/// becomes a space, n+1 breaks become n newlines), white space around breaks is dropped, and
/// quoted styles decode their escapes.
fn flow_offsets(
    text: &str,
    span: Span,
    decoded: &str,
    style: Style,
) -> Option<(Vec<usize>, usize)> {
    let (start, end) = match style {
        Style::Plain => (span.start, span.end),
        Style::SingleQuoted | Style::DoubleQuoted => {
            let q = if style == Style::SingleQuoted {
                b'\''
            } else {
                b'"'
            };
            let bytes = text.as_bytes();
            if span.end < span.start + 2
                || bytes.get(span.start) != Some(&q)
                || bytes.get(span.end - 1) != Some(&q)
            {
                return None;
            }
            (span.start + 1, span.end - 1)
        }
        _ => return None,
    };
    let region = text.get(start..end)?;
    let mut b = MapBuilder::new(text, decoded, start);

    // (start, end) of each source line of the region, white space around breaks removed.
    let raw: Vec<(usize, usize)> = {
        let mut v = Vec::new();
        let mut s = 0;
        for (i, _) in region.match_indices('\n') {
            v.push((s, i));
            s = i + 1;
        }
        v.push((s, region.len()));
        v
    };
    let count = raw.len();
    let mut prev: Option<usize> = None;
    let mut blanks = 0;
    let mut joined = false; // the previous line ended in an escaped line break
    for (i, &(ls, le)) in raw.iter().enumerate() {
        let mut le = le;
        if le > ls && region.as_bytes()[le - 1] == b'\r' && i + 1 < count {
            le -= 1;
        }
        let mut ls = ls;
        if i > 0 {
            while ls < le && matches!(region.as_bytes()[ls], b' ' | b'\t') {
                ls += 1;
            }
        }
        let mut escaped_break = false;
        if i + 1 < count {
            while le > ls
                && matches!(region.as_bytes()[le - 1], b' ' | b'\t')
                && !(style == Style::DoubleQuoted && escaped(region, le - 1))
            {
                le -= 1;
            }
            if style == Style::DoubleQuoted
                && le > ls
                && region.as_bytes()[le - 1] == b'\\'
                && !escaped(region, le - 1)
            {
                escaped_break = true;
                le -= 1;
            }
        }
        if i > 0 && i + 1 < count && ls >= le && !escaped_break {
            blanks += 1;
            continue;
        }
        if let Some(p) = prev {
            if !joined {
                if blanks == 0 {
                    let (at, len) = line_break_after(region, raw[p].1);
                    b.produced(' ', start + at, len)?;
                } else {
                    for t in 0..blanks {
                        let (at, len) = line_break_after(region, raw[p + 1 + t].0);
                        b.produced('\n', start + at, len)?;
                    }
                }
            }
        }
        decode_line(&mut b, region, start, ls, le, style)?;
        prev = Some(i);
        blanks = 0;
        joined = escaped_break;
    }
    b.finish()
}

/// The line break at or after `from` in `region` (offset and length, `\r\n` counting as one).
fn line_break_after(region: &str, from: usize) -> (usize, usize) {
    let from = from.min(region.len());
    match region[from..].find('\n') {
        Some(i) => {
            let at = from + i;
            if at > 0 && region.as_bytes()[at - 1] == b'\r' {
                (at - 1, 2)
            } else {
                (at, 1)
            }
        }
        None => (region.len(), 0),
    }
}

fn decode_line(
    b: &mut MapBuilder,
    region: &str,
    base: usize,
    ls: usize,
    le: usize,
    style: Style,
) -> Option<()> {
    let line = region.get(ls..le)?;
    match style {
        Style::Plain => b.verbatim(line, base + ls),
        Style::SingleQuoted => {
            let mut rest = line;
            let mut at = base + ls;
            while let Some(q) = rest.find("''") {
                b.verbatim(&rest[..q], at)?;
                b.produced('\'', at + q, 2)?;
                rest = &rest[q + 2..];
                at += q + 2;
            }
            b.verbatim(rest, at)
        }
        _ => {
            let mut rest = line;
            let mut at = base + ls;
            while let Some(q) = rest.find('\\') {
                b.verbatim(&rest[..q], at)?;
                let esc = &rest[q + 1..];
                let (c, len) = decode_escape(esc)?;
                b.produced(c, at + q, 1 + len)?;
                rest = &esc[len..];
                at += q + 1 + len;
            }
            b.verbatim(rest, at)
        }
    }
}

/// The character an escape (after its backslash) stands for, and the escape's length.
fn decode_escape(esc: &str) -> Option<(char, usize)> {
    let c = esc.chars().next()?;
    let simple = match c {
        '0' => '\0',
        'a' => '\x07',
        'b' => '\x08',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\x0b',
        'f' => '\x0c',
        'r' => '\r',
        'e' => '\x1b',
        ' ' => ' ',
        '"' => '"',
        '/' => '/',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        'x' | 'u' | 'U' => {
            let n = match c {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex = esc.get(1..1 + n)?;
            let code = u32::from_str_radix(hex, 16).ok()?;
            return Some((char::from_u32(code)?, 1 + n));
        }
        _ => return None,
    };
    Some((simple, c.len_utf8()))
}

/// Best effort: each decoded character maps to the next matching source character within a
/// short window, or to the current position when there is none (an escape).
fn greedy_offsets(text: &str, span: Span, decoded: &str) -> (Vec<usize>, usize) {
    const WINDOW: usize = 256;
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let lo = floor(span.start);
    let hi = floor(span.end.max(lo));
    let mut src = lo;
    let mut offsets = Vec::with_capacity(decoded.len());
    for c in decoded.chars() {
        let window = floor((src + WINDOW).min(hi)).max(src);
        let at = match text[src..window].find(c) {
            Some(i) => {
                let at = src + i;
                src = at + c.len_utf8();
                at
            }
            None => src,
        };
        for _ in 0..c.len_utf8() {
            offsets.push(at);
        }
    }
    (offsets, src)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_map(text: &str, pointer: &str) -> (String, QueryMap) {
        let map = YamlMap::parse(text);
        let node = map.node(pointer).expect("node").clone();
        let decoded = node.scalar.clone().expect("scalar");
        let qm = QueryMap::for_node(text, &node, &decoded);
        (decoded, qm)
    }

    /// Every non-line-break character of the query maps to the same character in the file.
    fn assert_exact(text: &str, decoded: &str, qm: &QueryMap) {
        assert!(qm.is_exact(), "not exact: {decoded:?}");
        for (i, c) in decoded.char_indices() {
            let at = qm.to_file(i);
            // Line breaks, and spaces folded from line breaks, map to the source line break.
            if c == '\n' || (c == ' ' && text[at..].starts_with(['\r', '\n'])) {
                continue;
            }
            assert!(
                text[at..].starts_with(c),
                "offset {i} ({c:?}) -> {at} ({:?})",
                &text[at..(at + 8).min(text.len())]
            );
        }
    }

    #[test]
    fn paths_and_spans() {
        let text = "id: x\nentityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: FullName\n        columnName: A\n      - {identifier: Name, columnName: \"B\"}\n";
        let map = YamlMap::parse(text);
        let span = |s: Span| &text[s.start..s.end];
        assert_eq!(span(map.key_span("/id").unwrap()), "id");
        assert_eq!(span(map.value_span("/id").unwrap()), "x");
        let p = "/entityMappings/0/fieldMappings/1/columnName";
        assert_eq!(span(map.key_span(p).unwrap()), "columnName");
        assert_eq!(span(map.value_span(p).unwrap()), "\"B\"");
        assert_eq!(
            span(map.value_span("/entityMappings/0/fieldMappings/1").unwrap()),
            "{identifier: Name, columnName: \"B\"}"
        );
        assert_eq!(
            span(
                map.key_span("/entityMappings/0/fieldMappings/0/columnName")
                    .unwrap()
            ),
            "columnName"
        );
        let em = span(map.value_span("/entityMappings").unwrap());
        assert!(
            em.starts_with("- entityType") && em.ends_with('}'),
            "{em:?}"
        );
        assert_eq!(map.doc_start(), 0);
        assert!(map.error.is_none());
    }

    #[test]
    fn bom_crlf_non_ascii_and_tabs() {
        let text =
            "\u{feff}name: \"é ü\"\r\ndescription: x\tß\r\nquery: |\r\n  T | where a == 'ö'\r\n";
        let map = YamlMap::parse(text);
        let s = map.key_span("/name").unwrap();
        assert_eq!(s.start, 3);
        assert_eq!(&text[s.start..s.end], "name");
        let v = map.value_span("/description").unwrap();
        assert_eq!(&text[v.start..v.end], "x\tß");
        assert_eq!(map.doc_start(), 3);
        let (q, qm) = query_map(text, "/query");
        assert_eq!(q, "T | where a == 'ö'\n");
        assert_exact(text, &q, &qm);
    }

    #[test]
    fn duplicates_and_anchors() {
        let text = "a: &x 1\nb: {c: 1, c: 2}\na: *x\n";
        let map = YamlMap::parse(text);
        assert_eq!(map.duplicates.len(), 2);
        let d = &map.duplicates[0];
        assert_eq!((d.mapping.as_str(), d.key.as_str()), ("/b", "c"));
        assert_eq!(&text[d.second.start..d.second.end], "c");
        assert!(d.second.start > d.first.start);
        let d = &map.duplicates[1];
        assert_eq!((d.mapping.as_str(), d.key.as_str()), ("", "a"));
        assert_eq!(d.second.start, text.rfind("a:").unwrap());
        let alias = map.node("/a").unwrap();
        assert_eq!(alias.kind, NodeKind::Alias);
        assert_eq!(alias.scalar.as_deref(), Some("1"));
    }

    #[test]
    fn syntax_error_offset_in_bytes() {
        let text = "a: 'é'\nb: [1, 2\nc: 3\n";
        let map = YamlMap::parse(text);
        let e = map.error.clone().expect("error");
        assert!(e.offset <= text.len() && text.is_char_boundary(e.offset));
        assert!(e.offset >= text.find("b:").unwrap(), "{e:?}");
        assert!(map.value_span("/a").is_some());
    }

    #[test]
    fn second_document() {
        let map = YamlMap::parse("a: 1\n---\nb: 2\n");
        assert_eq!(map.extra_document.map(|s| s.start), Some(5));
        assert!(map.node("/b").is_none());
    }

    #[test]
    fn literal_styles() {
        for text in [
            "query: |\n  a\n   b\n\n  c\n",
            "query: |-\n  a\n   b\n\n  c\n\nnext: 1\n",
            "query: |+\n  a\n\n\nnext: 1\n",
            "query: |2\n    indented\n  a\n",
            "x:\n  query: |4-\n        deep\n      b\n",
            "query: |\n\n\n  after blanks\n",
            "query: | # comment\r\n  a\r\n  \tb\r\n",
            "\u{feff}query: |\r\n  é\r\n  ü\r\n",
        ] {
            let ptr = if text.starts_with("x:") {
                "/x/query"
            } else {
                "/query"
            };
            let (q, qm) = query_map(text, ptr);
            assert_exact(text, &q, &qm);
        }
    }

    #[test]
    fn folded_styles() {
        for text in [
            "query: >\n  a\n  b\n\n   sp\n  c\n\n  d\n",
            "query: >-\n  one\n  two\n",
            "query: >+\n  one\n\n\nx: 1\n",
            "query: >\n\n  x\n",
            "query: >\r\n  a\r\n  b\r\n",
        ] {
            let (q, qm) = query_map(text, "/query");
            assert_exact(text, &q, &qm);
        }
    }

    #[test]
    fn flow_styles() {
        for text in [
            "query: T | where x == 1\n",
            "query: T\n  | where x\n\n  | take 1\n",
            "query: 'it''s'\n",
            "query: 'a\n  b  '\n",
            "query: \"a\\tb \\u00e9 \\\"q\\\"\"\n",
            "query: \"one\n  two\\\n  three\"\n",
            "query: \"x\"\r\n",
            "\u{feff}query: 'ö'\r\n",
        ] {
            let (q, qm) = query_map(text, "/query");
            assert!(qm.is_exact(), "{text:?} -> {q:?}");
            for (i, c) in q.char_indices() {
                let at = qm.to_file(i);
                assert!(at < text.len());
                let escape = text[..at].ends_with('\\') || text[at..].starts_with('\\');
                if c != '\n' && c != ' ' && !escape && !text[at..].starts_with("''") {
                    assert!(text[at..].starts_with(c), "{text:?}: {i} {c:?} -> {at}");
                }
            }
        }
        // The escape maps to its backslash.
        let text = "query: \"a\\tb\"\n";
        let (q, qm) = query_map(text, "/query");
        assert_eq!(q, "a\tb");
        assert_eq!(qm.to_file(1), text.find('\\').unwrap());
        assert_eq!(qm.to_file(2), text.find("b\"").unwrap());
    }

    #[test]
    fn fallback_stays_in_range() {
        let text = "query: \"a\"\n";
        let map = YamlMap::parse(text);
        let node = map.node("/query").unwrap().clone();
        let qm = QueryMap::for_node(text, &node, "something else entirely");
        assert!(!qm.is_exact());
        for i in 0..40 {
            assert!(qm.to_file(i) <= text.len());
        }
        assert_eq!(QueryMap::identity().to_file(7), 7);
        assert_eq!(QueryMap::constant(4).to_file(100), 4);
    }

    #[test]
    fn to_file_span_ends_after_last_char() {
        let text = "query: |\n  ab\n  cd\n";
        let (_, qm) = query_map(text, "/query");
        let s = qm.to_file_span(Span::new(0, 2));
        assert_eq!(&text[s.start..s.end], "ab");
        let s = qm.to_file_span(Span::new(3, 5));
        assert_eq!(&text[s.start..s.end], "cd");
    }

    #[test]
    fn never_panics_on_odd_input() {
        let deep = "[".repeat(10_000);
        let deep_map = "a:\n".to_string() + &"  ".repeat(300) + "b: 1\n";
        for text in [
            "",
            "---",
            "---\n...\n",
            "- a\n- b\n",
            "\u{0}\u{1}binary\u{7f}",
            "? [a, b]\n: c\nd: e\n",
            "a: *unknown\n",
            "\t\tx: 1",
            "a:\n\t- b\n",
            deep.as_str(),
            deep_map.as_str(),
            "'unterminated",
            "a: \"\\",
            "a: |\n  x\n b: 1\n",
        ] {
            let map = YamlMap::parse(text);
            for p in map.paths() {
                let n = map.node(p).unwrap();
                assert!(n.value.start <= n.value.end && n.value.end <= text.len());
                if let Some(s) = n.scalar.as_deref() {
                    let qm = QueryMap::for_node(text, n, s);
                    for i in 0..=s.len() {
                        assert!(qm.to_file(i) <= text.len());
                    }
                }
            }
        }
    }
}
