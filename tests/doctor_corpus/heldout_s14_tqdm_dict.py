# expect: none
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from datasets import load_dataset
from transformers import AutoTokenizer, AutoModelForSequenceClassification, DataCollatorWithPadding, get_scheduler

checkpoint = "distilbert-base-uncased"
raw = load_dataset("glue", "sst2")
tokenizer = AutoTokenizer.from_pretrained(checkpoint)
tokenized = raw.map(lambda ex: tokenizer(ex["sentence"], truncation=True), batched=True)
tokenized = tokenized.remove_columns(["sentence", "idx"]).rename_column("label", "labels")
tokenized.set_format("torch")
collator = DataCollatorWithPadding(tokenizer=tokenizer)

train_dataloader = DataLoader(tokenized["train"], shuffle=True, batch_size=32, collate_fn=collator)
eval_dataloader = DataLoader(tokenized["validation"], batch_size=64, collate_fn=collator)

model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)
device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
model.to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
num_epochs = 3
num_training_steps = num_epochs * len(train_dataloader)
lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=0, num_training_steps=num_training_steps)

progress_bar = tqdm(range(num_training_steps))
for epoch in range(num_epochs):
    model.train()
    for batch in train_dataloader:
        batch = {k: v.to(device) for k, v in batch.items()}
        outputs = model(**batch)
        loss = outputs.loss
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
        progress_bar.update(1)
        progress_bar.set_postfix(loss=loss.item())

    model.eval()
    correct, total = 0, 0
    for batch in tqdm(eval_dataloader, leave=False):
        batch = {k: v.to(device) for k, v in batch.items()}
        with torch.no_grad():
            outputs = model(**batch)
        preds = outputs.logits.argmax(dim=-1)
        correct += (preds == batch["labels"]).sum().item()
        total += batch["labels"].size(0)
    print(f"epoch {epoch}: accuracy {correct / total:.4f}")

model.save_pretrained("sst2-distilbert")
