"""Planted wrong solutions for 07_rnn: each must lose points when autograded."""
# ruff: noqa: E501  (planted cell sources are data: long string literals read best unsplit)

# Each base is the reference solution cell; a mutant replaces one fragment of it (checked below,
# so a base that drifts from the notebook fails loudly instead of planting nothing).

_RNN = '''class MyRNNCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        k = 1 / math.sqrt(hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size).uniform_(-k, k))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-k, k))
        self.bias_ih = nn.Parameter(torch.empty(hidden_size).uniform_(-k, k))
        self.bias_hh = nn.Parameter(torch.empty(hidden_size).uniform_(-k, k))

    def forward(self, x, h=None):
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        return torch.tanh(x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh)
'''
_RNN_WRAPS_TORCH = '''class MyRNNCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.cell = nn.RNNCell(input_size, hidden_size)

    def forward(self, x, h=None):
        return self.cell(x, h)
'''

_LSTM = '''class MyLSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        k = 1 / math.sqrt(hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size).uniform_(-k, k))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size).uniform_(-k, k))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-k, k))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-k, k))

    def forward(self, x, state=None):
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        h, c = state
        gates = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        i, f, g, o = gates.chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        h = o * torch.tanh(c)
        return h, c
'''

_UNROLL = '''def unroll(cell, x, state=None):
    outputs = []
    for t in range(x.shape[1]):
        state = cell(x[:, t], state)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    return torch.stack(outputs, dim=1), state
'''
_UNROLL_STATE_NOT_CARRIED = '''def unroll(cell, x, state=None):
    outputs = []
    for t in range(x.shape[1]):
        new_state = cell(x[:, t], state)
        outputs.append(new_state[0] if isinstance(new_state, tuple) else new_state)
    return torch.stack(outputs, dim=1), new_state
'''
_UNROLL_OVER_BATCH = '''def unroll(cell, x, state=None):
    outputs = []
    for xt in x:
        state = cell(xt, state)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    return torch.stack(outputs, dim=1), state
'''

_VOCAB = '''PAD, UNK = "<pad>", "<unk>"


def build_vocab(sentences, min_freq=1):
    counts = Counter(token for sentence in sentences for token in sentence)
    kept = sorted((kv for kv in counts.items() if kv[1] >= min_freq), key=lambda kv: (-kv[1], kv[0]))
    vocab = {PAD: 0, UNK: 1}
    for token, _ in kept:
        vocab[token] = len(vocab)
    return vocab


def encode(tokens, vocab):
    unk = vocab[UNK]
    return torch.tensor([vocab.get(token, unk) for token in tokens], dtype=torch.int64)
'''
_VOCAB_SORTED = "kept = sorted((kv for kv in counts.items() if kv[1] >= min_freq), key=lambda kv: (-kv[1], kv[0]))"
_VOCAB_SPECIALS_LAST = '''PAD, UNK = "<pad>", "<unk>"


def build_vocab(sentences, min_freq=1):
    counts = Counter(token for sentence in sentences for token in sentence)
    kept = sorted((kv for kv in counts.items() if kv[1] >= min_freq), key=lambda kv: (-kv[1], kv[0]))
    vocab = {token: i for i, (token, _) in enumerate(kept)}
    vocab[PAD] = len(vocab)
    vocab[UNK] = len(vocab)
    return vocab


def encode(tokens, vocab):
    unk = vocab[UNK]
    return torch.tensor([vocab.get(token, unk) for token in tokens], dtype=torch.int64)
'''

_BATCH = '''def encode_batch(sentences, vocab):
    encoded = [encode(sentence, vocab) for sentence in sentences]
    lengths = torch.tensor([len(e) for e in encoded], dtype=torch.int64)
    return pad_sequence(encoded, batch_first=True, padding_value=vocab[PAD]), lengths
'''
_BATCH_LENGTHS_AFTER_PADDING = '''def encode_batch(sentences, vocab):
    encoded = [encode(sentence, vocab) for sentence in sentences]
    ids = pad_sequence(encoded, batch_first=True, padding_value=vocab[PAD])
    lengths = torch.tensor([len(row) for row in ids], dtype=torch.int64)
    return ids, lengths
'''

_LAST = '''def last_hidden(rnn, x, lengths):
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    _, state = rnn(packed)
    h = state[0] if isinstance(state, tuple) else state
    return h[-1]
'''
_LAST_PADDING_LEAKS = '''def last_hidden(rnn, x, lengths):
    outputs, _ = rnn(x)
    return outputs[:, -1]
'''
_LAST_GATHER_OFF_BY_ONE = '''def last_hidden(rnn, x, lengths):
    outputs, _ = rnn(x)
    return outputs[torch.arange(len(x)), lengths]
'''
_LAST_LSTM_TUPLE = '''def last_hidden(rnn, x, lengths):
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    _, h = rnn(packed)
    return h[-1]
'''

_WINDOWS = '''def make_windows(ids, seq_len):
    n = (len(ids) - 1) // seq_len
    X = ids[: n * seq_len].view(n, seq_len)
    Y = ids[1 : n * seq_len + 1].view(n, seq_len)
    return X, Y
'''
_WINDOWS_OVERLAPPING = '''def make_windows(ids, seq_len):
    X = ids[:-1].unfold(0, seq_len, 1)
    Y = ids[1:].unfold(0, seq_len, 1)
    return X, Y
'''

_CHAR = '''CHAR_STEPS = 100 if in_grader() else 1500


def make_char_model(vocab_size):
    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, 32)
            self.rnn = nn.LSTM(32, 128, batch_first=True)
            self.head = nn.Linear(128, vocab_size)

        def forward(self, ids):
            outputs, _ = self.rnn(self.embed(ids))
            return self.head(outputs)

    return CharLSTM()


def train_char_model(model, X, Y, steps):
    model.to(DEVICE)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1.5e-2)
    for _ in range(steps):
        idx = torch.randint(0, len(X), (32,))
        xb, yb = X[idx].to(DEVICE), Y[idx].to(DEVICE)
        logits = model(xb)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return model
'''

_SAMPLE = '''def sample_next(logits, temperature, generator=None):
    probs = {probs}
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
'''

_SENT = '''SENT_EPOCHS = 8


def make_sentiment_model(vocab_size):
    class SentimentGRU(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, 32, padding_idx=0)
            self.rnn = nn.GRU(32, 64, batch_first=True)
            self.head = nn.Linear(64, 2)

        def forward(self, ids, lengths):
            packed = pack_padded_sequence(self.embed(ids), lengths.cpu(), batch_first=True, enforce_sorted=False)
            _, h = self.rnn(packed)
            return self.head(h[-1])

    return SentimentGRU()


def train_sentiment(model, ids, lengths, labels, epochs):
    model.to(DEVICE)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(epochs):
        for idx in torch.randperm(len(ids)).split(32):
            logits = model(ids[idx].to(DEVICE), lengths[idx])
            loss = F.cross_entropy(logits, labels[idx].to(DEVICE))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model
'''
_SENT_FORWARD = '''packed = pack_padded_sequence(self.embed(ids), lengths.cpu(), batch_first=True, enforce_sorted=False)
            _, h = self.rnn(packed)
            return self.head(h[-1])'''


def _sub(base: str, old: str, new: str) -> str:
    assert base.count(old) == 1, f"mutant fragment not found exactly once: {old!r}"
    return base.replace(old, new)


MUTANTS = [
    # MyRNNCell
    {"name": "rnn_hh_not_transposed", "cell": "my_rnn_cell", "source": _sub(_RNN, "h @ self.weight_hh.T", "h @ self.weight_hh")},
    {"name": "rnn_relu_not_tanh", "cell": "my_rnn_cell", "source": _sub(_RNN, "return torch.tanh(", "return torch.relu(")},
    {"name": "rnn_hidden_bias_unused", "cell": "my_rnn_cell", "source": _sub(_RNN, " + self.bias_hh)", ")")},
    {"name": "rnn_wraps_torch", "cell": "my_rnn_cell", "source": _RNN_WRAPS_TORCH},
    # MyLSTMCell
    {"name": "lstm_gate_order_ifog", "cell": "my_lstm_cell", "source": _sub(
        _LSTM, "i, f, g, o = gates.chunk(4, dim=1)", "i, f, o, g = gates.chunk(4, dim=1)")},
    {"name": "lstm_forget_gate_missing", "cell": "my_lstm_cell", "source": _sub(_LSTM, "c = f * c + i * g", "c = c + i * g")},
    {"name": "lstm_candidate_sigmoid", "cell": "my_lstm_cell", "source": _sub(
        _LSTM, "torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)", "torch.sigmoid(f), torch.sigmoid(g), torch.sigmoid(o)")},
    {"name": "lstm_h_without_tanh", "cell": "my_lstm_cell", "source": _sub(_LSTM, "h = o * torch.tanh(c)", "h = o * c")},
    {"name": "lstm_h_from_old_cell", "cell": "my_lstm_cell", "source": _sub(
        _LSTM, "c = f * c + i * g\n        h = o * torch.tanh(c)\n        return h, c",
        "h = o * torch.tanh(c)\n        c = f * c + i * g\n        return h, c")},
    # unroll
    {"name": "unroll_state_not_carried", "cell": "unroll", "source": _UNROLL_STATE_NOT_CARRIED},
    {"name": "unroll_time_first_outputs", "cell": "unroll", "source": _sub(
        _UNROLL, "torch.stack(outputs, dim=1)", "torch.stack(outputs)")},
    {"name": "unroll_final_state_is_h", "cell": "unroll", "source": _sub(
        _UNROLL, "return torch.stack(outputs, dim=1), state", "return torch.stack(outputs, dim=1), outputs[-1]")},
    {"name": "unroll_loops_over_batch", "cell": "unroll", "source": _UNROLL_OVER_BATCH},
    # build_vocab / encode
    {"name": "vocab_unk_not_used", "cell": "vocab", "source": _sub(
        _VOCAB, "[vocab.get(token, unk) for token in tokens]", "[vocab[token] for token in tokens if token in vocab]")},
    {"name": "vocab_unknown_raises", "cell": "vocab", "source": _sub(
        _VOCAB, "[vocab.get(token, unk) for token in tokens]", "[vocab[token] for token in tokens]")},
    {"name": "vocab_ties_in_first_seen_order", "cell": "vocab", "source": _sub(
        _VOCAB, _VOCAB_SORTED, "kept = [kv for kv in counts.most_common() if kv[1] >= min_freq]")},
    {"name": "vocab_min_freq_ignored", "cell": "vocab", "source": _sub(
        _VOCAB, _VOCAB_SORTED, "kept = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))")},
    {"name": "vocab_specials_last", "cell": "vocab", "source": _VOCAB_SPECIALS_LAST},
    # encode_batch
    {"name": "batch_padded_with_unk", "cell": "encode_batch", "source": _sub(_BATCH, "padding_value=vocab[PAD]", "padding_value=vocab[UNK]")},
    {"name": "batch_padded_with_literal_zero", "cell": "encode_batch", "source": _sub(_BATCH, "padding_value=vocab[PAD]", "padding_value=0")},
    {"name": "batch_lengths_after_padding", "cell": "encode_batch", "source": _BATCH_LENGTHS_AFTER_PADDING},
    {"name": "batch_time_first", "cell": "encode_batch", "source": _sub(_BATCH, "batch_first=True, ", "")},
    # last_hidden
    {"name": "pack_padding_leaks_into_state", "cell": "last_hidden", "source": _LAST_PADDING_LEAKS},
    {"name": "pack_gather_off_by_one", "cell": "last_hidden", "source": _LAST_GATHER_OFF_BY_ONE},
    {"name": "pack_enforce_sorted", "cell": "last_hidden", "source": _sub(_LAST, ", enforce_sorted=False", "")},
    {"name": "pack_lstm_returns_cell_state", "cell": "last_hidden", "source": _LAST_LSTM_TUPLE},
    {"name": "pack_not_batch_first", "cell": "last_hidden", "source": _sub(_LAST, "batch_first=True, ", "")},
    # make_windows
    {"name": "windows_targets_not_shifted", "cell": "make_windows", "source": _sub(
        _WINDOWS, "Y = ids[1 : n * seq_len + 1].view(n, seq_len)", "Y = ids[: n * seq_len].view(n, seq_len)")},
    {"name": "windows_shifted_backwards", "cell": "make_windows", "source": _sub(_sub(
        _WINDOWS, "X = ids[: n * seq_len]", "X = ids[1 : n * seq_len + 1]"), "Y = ids[1 : n * seq_len + 1]", "Y = ids[: n * seq_len]")},
    {"name": "windows_count_off_by_one", "cell": "make_windows", "source": _sub(_WINDOWS, "n = (len(ids) - 1) // seq_len", "n = len(ids) // seq_len")},
    {"name": "windows_overlapping", "cell": "make_windows", "source": _WINDOWS_OVERLAPPING},
    # character model
    {"name": "char_no_recurrence_bigram", "cell": "char_model", "source": _sub(_sub(_sub(
        _CHAR, "            self.rnn = nn.LSTM(32, 128, batch_first=True)\n", ""), "nn.Linear(128, vocab_size)", "nn.Linear(32, vocab_size)"),
        "outputs, _ = self.rnn(self.embed(ids))", "outputs = self.embed(ids)")},
    {"name": "char_trained_on_unshifted_targets", "cell": "char_model", "source": _sub(
        _CHAR, "yb.reshape(-1))", "xb.reshape(-1))")},
    {"name": "char_last_step_only", "cell": "char_model", "source": _sub(
        _CHAR, "return self.head(outputs)", "return self.head(outputs[:, -1])")},
    {"name": "char_sgd_tiny_lr", "cell": "char_model", "source": _sub(
        _CHAR, "torch.optim.Adam(model.parameters(), lr=1.5e-2)", "torch.optim.SGD(model.parameters(), lr=1e-3)")},
    # sample_next
    {"name": "sample_temperature_multiplies", "cell": "sample_next", "source": _SAMPLE.format(probs="F.softmax(logits * temperature, dim=-1)")},
    {"name": "sample_temperature_after_softmax", "cell": "sample_next", "source": _SAMPLE.format(probs="F.softmax(logits, dim=-1) / temperature")},
    {"name": "sample_power_wrong_way", "cell": "sample_next", "source": _SAMPLE.format(probs="F.softmax(logits, dim=-1) ** temperature")},
    {"name": "sample_softmax_over_batch", "cell": "sample_next", "source": _SAMPLE.format(probs="F.softmax(logits / temperature, dim=0)")},
    {"name": "sample_greedy", "cell": "sample_next",
     "source": "def sample_next(logits, temperature, generator=None):\n    return (logits / temperature).argmax(dim=-1)\n"},
    # sentiment model
    {"name": "sent_padding_leaks", "cell": "sentiment_model", "source": _sub(
        _SENT, _SENT_FORWARD, "outputs, _ = self.rnn(self.embed(ids))\n            return self.head(outputs[:, -1])")},
    {"name": "sent_bag_of_embeddings", "cell": "sentiment_model", "source": _sub(_sub(
        _SENT, _SENT_FORWARD, "summed = self.embed(ids).sum(dim=1)\n"
                              "            return self.head(summed / lengths.to(summed.device)[:, None])"),
        "nn.Linear(64, 2)", "nn.Linear(32, 2)")},
    {"name": "sent_enforce_sorted", "cell": "sentiment_model", "source": _sub(_SENT, ", enforce_sorted=False", "")},
    {"name": "sent_sgd_tiny_lr", "cell": "sentiment_model", "source": _sub(
        _SENT, "torch.optim.Adam(model.parameters(), lr=1e-2)", "torch.optim.SGD(model.parameters(), lr=1e-3)")},
]
