# expect: TL008
import argparse
import torch
from torch.utils.data import DataLoader
from transformers import AutoModelForTokenClassification, AutoTokenizer, get_linear_schedule_with_warmup

from ner_data import load_conll, NerCollator


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bert-base-cased")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--warmup", type=float, default=0.1)
    ap.add_argument("--bs", type=int, default=16)
    return ap.parse_args()


def evaluate(model, loader, device):
    model.eval()
    tp = fp = fn = 0
    with torch.no_grad():
        for batch in loader:
            batch = {k: t.to(device) for k, t in batch.items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            pred, gold = logits.argmax(-1), batch["labels"]
            mask = gold != -100
            tp += ((pred == gold) & (gold > 0) & mask).sum().item()
            fp += ((pred != gold) & (pred > 0) & mask).sum().item()
            fn += ((pred != gold) & (gold > 0) & mask).sum().item()
    return 2 * tp / max(1, 2 * tp + fp + fn)


def main():
    args = parse()
    device = torch.device("cuda")
    tok = AutoTokenizer.from_pretrained(args.model)
    train_set, dev_set, labels = load_conll(tok)
    collate = NerCollator(tok)
    train_loader = DataLoader(train_set, batch_size=args.bs, shuffle=True, collate_fn=collate)
    dev_loader = DataLoader(dev_set, batch_size=64, collate_fn=collate)
    model = AutoModelForTokenClassification.from_pretrained(args.model, num_labels=len(labels)).to(device)

    no_decay = ["bias", "LayerNorm.weight"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    total_steps = len(train_loader) * args.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(args.warmup * total_steps), total_steps)

    for epoch in range(args.epochs):
        model.train()
        for step, batch in enumerate(train_loader):
            batch = {k: t.to(device) for k, t in batch.items()}
            model.zero_grad()
            out = model(**batch)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scheduler.step()
            optimizer.step()
            if step % 100 == 0:
                print(f"epoch {epoch} step {step} loss {out.loss.item():.4f} lr {scheduler.get_last_lr()[0]:.2e}")
        print(f"epoch {epoch} dev F1 {evaluate(model, dev_loader, device):.4f}")
    model.save_pretrained("ner-out")


if __name__ == "__main__":
    main()
