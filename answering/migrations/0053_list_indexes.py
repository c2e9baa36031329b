# The agent's message list orders its granted lines' messages newest first with the id breaking
# ties (-created_at, -id): the line's index now holds the id too, so the page is read in order and
# nothing sorts, however the messages spread over the lines.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("answering", "0052_purge_keyset"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="message", name="message_line_created"),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["line", "-created_at", "-id"], name="message_line_newest"),
        ),
    ]
