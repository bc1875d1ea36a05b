# expect: none
import random
import torch
import torch.nn as nn
import torch.nn.functional as F

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')


class Encoder(nn.Module):
    def __init__(self, vocab, emb, hid):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb, hid, batch_first=True)

    def forward(self, src):
        _, hidden = self.rnn(self.embedding(src))
        return hidden


class Decoder(nn.Module):
    def __init__(self, vocab, emb, hid):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb, hid, batch_first=True)
        self.fc_out = nn.Linear(hid, vocab)

    def forward(self, tok, hidden):
        out, hidden = self.rnn(self.embedding(tok.unsqueeze(1)), hidden)
        return self.fc_out(out.squeeze(1)), hidden


class Seq2Seq(nn.Module):
    def __init__(self, enc, dec):
        super().__init__()
        self.encoder, self.decoder = enc, dec

    def forward(self, src, trg, teacher_forcing_ratio=0.5):
        B, T = trg.shape
        outputs = torch.zeros(B, T, self.decoder.fc_out.out_features, device=src.device)
        hidden = self.encoder(src)
        tok = trg[:, 0]
        for t in range(1, T):
            logits, hidden = self.decoder(tok, hidden)
            outputs[:, t] = logits
            tok = trg[:, t] if random.random() < teacher_forcing_ratio else logits.argmax(1)
        return outputs


def greedy_decode(model, src, max_len=50, sos=1):
    hidden = model.encoder(src)
    tok = torch.full((src.size(0),), sos, dtype=torch.long, device=src.device)
    result = []
    for _ in range(max_len):
        logits, hidden = model.decoder(tok, hidden)
        probs = F.softmax(logits, dim=-1)
        tok = probs.argmax(-1)
        result.append(tok)
    return torch.stack(result, 1)


def run(train_iter, valid_iter, src_vocab, trg_vocab, pad_idx, epochs=10, clip=1.0):
    model = Seq2Seq(Encoder(src_vocab, 256, 512), Decoder(trg_vocab, 256, 512)).to(device)
    optimizer = torch.optim.Adam(model.parameters())
    criterion = nn.CrossEntropyLoss(ignore_index=pad_idx)
    for epoch in range(epochs):
        model.train()
        epoch_loss = 0
        for batch in train_iter:
            src, trg = batch.src.to(device), batch.trg.to(device)
            optimizer.zero_grad()
            output = model(src, trg)
            V = output.shape[-1]
            loss = criterion(output[:, 1:].reshape(-1, V), trg[:, 1:].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            epoch_loss += loss.item()
        model.eval()
        val_loss = 0
        with torch.no_grad():
            for batch in valid_iter:
                src, trg = batch.src.to(device), batch.trg.to(device)
                output = model(src, trg, 0)
                V = output.shape[-1]
                val_loss += criterion(output[:, 1:].reshape(-1, V), trg[:, 1:].reshape(-1)).item()
            example = greedy_decode(model, src[:4])
        print(epoch, epoch_loss / len(train_iter), val_loss / len(valid_iter), example.shape)
    return model
