# expect: TL004
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class Classifier(nn.Module):
    def __init__(self, encoder, hidden, num_labels):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(0.1)
        self.out = nn.Linear(hidden, num_labels)

    def forward(self, input_ids, attention_mask):
        h = self.encoder(input_ids, attention_mask)
        return self.out(self.dropout(h[:, 0]))


class Trainer:
    def __init__(self, model, train_ds, eval_ds, device):
        self.model = model.to(device)
        self.device = device
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
        self.loss_fn = nn.CrossEntropyLoss()
        self.train_loader = DataLoader(train_ds, batch_size=16, shuffle=True)
        self.eval_loader = DataLoader(eval_ds, batch_size=64)

    def _to_device(self, batch):
        return {k: v.to(self.device) for k, v in batch.items()}

    def train_epoch(self):
        self.model.train()
        for batch in self.train_loader:
            batch = self._to_device(batch)
            logits = self.model(batch["input_ids"], batch["attention_mask"])
            loss = self.loss_fn(logits, batch["labels"])
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()

    def evaluate(self):
        correct = 0
        with torch.inference_mode():
            for batch in self.eval_loader:
                batch = self._to_device(batch)
                logits = self.model(batch["input_ids"], batch["attention_mask"])
                correct += (logits.argmax(-1) == batch["labels"]).sum().item()
        return correct / len(self.eval_loader.dataset)

    def fit(self, epochs=3):
        for epoch in range(epochs):
            self.train_epoch()
            print(f"epoch {epoch}: accuracy {self.evaluate():.4f}")
