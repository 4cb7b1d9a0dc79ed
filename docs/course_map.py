"""The course map: every section, exercise and practical result of the course text next to the
genlab command, module and guide section that implement it, with a note where genlab departs.
One table of data renders both languages:

    python docs/course_map.py          # writes docs/course-map.md and docs/ru/course-map.md

The first column quotes the course text (docs/course_outline.txt, from docs/course_outline.py);
tests/test_course_map.py checks that every line of the outline is mapped and the maps are current.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent

#: chapter -> (guide, relative to docs/ in either language)
GUIDES = {
    "5.1": "chapters/5.1-autoencoders.md",
    "5.2": "chapters/5.2-vae.md",
    "5.3": "chapters/5.3-gans.md",
    "5.4": "chapters/5.4-diffusion.md",
    "5.5": "chapters/5.5-rl.md",
    "5.6": "chapters/5.6-fewshot.md",
    "5.7": "chapters/5.7-multimodal.md",
    "final": "final-project.md",
}
#: guide section -> (English heading, Russian heading)
SECTIONS = {
    "intro": ("introduction", "вступление"),
    "train": ("Train and look", "Обучить и посмотреть"),
    "get": ("What you get", "Что получается"),
    "wrong": ("What the book's code gets wrong", "Где ошибается код учебника"),
    "api": ("Python API", "Python API"),
    "use": ("Train and use it", "Обучить и пользоваться"),
    "avoid": ("How the system avoids the book's mistakes", "Как система обходит ошибки учебника"),
}

# Each row: (course item as the outline has it, genlab command, module, (chapter, section), English note, Russian note).
# An empty command or module is shown as a dash; a None guide means no guide section covers it.
BLOCK = [
    (
        "## Обзор блока",
        "",
        "genlab.registry",
        ("final", "intro"),
        "Seven chapters, twenty models (`genlab train --help` lists them); the README's table maps chapters to models.",
        "Семь глав, двадцать моделей (их перечисляет `genlab train --help`); таблица в README сопоставляет главы и модели.",
    ),
]
CH51 = [
    ("## Глава 5.1: Автоэнкодеры", "genlab train ae", "genlab.autoencoders", ("5.1", "intro"), "", ""),
    ("### Цели главы", "", "", ("5.1", "intro"), "", ""),
    ("### Теоретическая часть", "", "", ("5.1", "intro"), "", ""),
    ("#### Что такое автоэнкодер?", "", "genlab.autoencoders.ae", ("5.1", "intro"), "", ""),
    (
        "#### Архитектура автоэнкодера",
        "genlab train ae --preset book",
        "genlab.autoencoders.nets",
        ("5.1", "wrong"),
        "The book's MLP 784-512-256-32 is `--preset book`; the default is a small convolutional autoencoder.",
        "MLP учебника 784-512-256-32 — это `--preset book`; по умолчанию — небольшой свёрточный автоэнкодер.",
    ),
    (
        "#### Типы автоэнкодеров",
        "genlab train sparse-ae",
        "genlab.autoencoders.sparse",
        ("5.1", "intro"),
        "Undercomplete (`ae`), denoising (`dae`), sparse (`sparse-ae`) and variational (chapter 5.2) are implemented.",
        "Реализованы неполный (`ae`), шумоподавляющий (`dae`), разреженный (`sparse-ae`) и вариационный (глава 5.2).",
    ),
    ("### Практическая часть", "", "", ("5.1", "train"), "", ""),
    (
        "#### Задание 1: Реализация классического автоэнкодера",
        "genlab train ae --out runs/ae",
        "genlab.autoencoders.ae",
        ("5.1", "train"),
        "",
        "",
    ),
    (
        "#### Задание 2: Denoising автоэнкодер",
        "genlab explore runs/dae --what denoise --out d.png",
        "genlab.autoencoders.dae",
        ("5.1", "train"),
        "Noise factor 0.3 as in the book, scored against the clean image.",
        "Коэффициент шума 0.3, как в учебнике; оценка по чистому изображению.",
    ),
    (
        "### Визуализация результатов",
        "genlab explore runs/ae --what reconstruct --out r.png",
        "genlab.autoencoders.explore",
        ("5.1", "get"),
        "",
        "",
    ),
    (
        "### Практические результаты",
        "genlab eval runs/ae --json",
        "genlab.metrics.reconstruction",
        ("5.1", "get"),
        "",
        "",
    ),
    ("- Реализация автоэнкодера с нуля", "genlab train ae", "genlab.autoencoders.ae", ("5.1", "train"), "", ""),
    (
        "- Сжатие изображений MNIST с потерями <5%",
        "genlab eval runs/ae --json",
        "genlab.metrics.reconstruction",
        ("5.1", "get"),
        "The book never defines its “loss”; genlab reports `pixel_mass_lost` (the share of ink reconstructed wrong) with MSE, PSNR, SSIM and recon_acc. "
        "A 32-number code blurs stroke edges, so the figure is measured honestly and not always under 5%.",
        "Учебник не определяет свои «потери»; genlab сообщает `pixel_mass_lost` (долю «чернил», восстановленных неверно) вместе с MSE, PSNR, SSIM и recon_acc. "
        "Код из 32 чисел размывает края штрихов, так что число измерено честно и не всегда меньше 5%.",
    ),
    ("- Создание denoising автоэнкодера", "genlab train dae", "genlab.autoencoders.dae", ("5.1", "get"), "", ""),
    (
        "- Визуализация латентного пространства",
        "genlab explore runs/ae --what latent-map --projection pca --out m.png",
        "genlab.autoencoders.explore",
        ("5.1", "get"),
        "Also in the studio: the Latent explorer page.",
        "Также в студии: страница «Латентное пространство».",
    ),
]
CH52 = [
    (
        "## Глава 5.2: Вариационные автоэнкодеры (VAE)",
        "genlab train vae",
        "genlab.autoencoders.vae",
        ("5.2", "intro"),
        "",
        "",
    ),
    ("### Цели главы", "", "", ("5.2", "intro"), "", ""),
    ("### Теоретическая часть", "", "", ("5.2", "intro"), "", ""),
    ("#### Основные отличия VAE от обычного автоэнкодера", "", "genlab.autoencoders.vae", ("5.2", "intro"), "", ""),
    (
        "#### Математические основы",
        "genlab eval runs/vae --json",
        "genlab.autoencoders.losses",
        ("5.2", "intro"),
        "ELBO and the tighter IWAE bound are reported in nats per held-out image.",
        "ELBO и более точная оценка IWAE сообщаются в натах на отложенное изображение.",
    ),
    ("#### Reparameterization trick", "", "genlab.autoencoders.vae", ("5.2", "intro"), "", ""),
    ("### Практическая часть", "", "", ("5.2", "train"), "", ""),
    (
        "#### Реализация VAE",
        "genlab train vae --preset book",
        "genlab.autoencoders.vae",
        ("5.2", "wrong"),
        "The book's MLP VAE is `--preset book`; the default is a small convolutional VAE (the MLP overfits the 4,000 embedded digits).",
        "MLP-VAE учебника — это `--preset book`; по умолчанию — небольшой свёрточный VAE (MLP переобучается на 4,000 встроенных цифр).",
    ),
    (
        "### Генерация новых данных",
        "genlab sample runs/vae --n 64 --out s.npy --png s.png",
        "genlab.autoencoders.vae",
        ("5.2", "get"),
        "",
        "",
    ),
    (
        "### Анализ латентного пространства",
        "genlab explore runs/vae --what interpolate --pair 0 1 --out i.png",
        "genlab.autoencoders.explore",
        ("5.2", "get"),
        "",
        "",
    ),
    ("### Практические результаты", "genlab eval runs/vae --json", "genlab.metrics.likelihood", ("5.2", "get"), "", ""),
    ("- Реализация VAE с нуля", "genlab train vae", "genlab.autoencoders.vae", ("5.2", "train"), "", ""),
    (
        "- Генерация новых реалистичных изображений",
        "genlab eval --samples s.npy --json",
        "genlab.metrics.quality",
        ("5.2", "get"),
        "Realism is measured with FID against held-out digits; the images are 28x28 digits, not photographs.",
        "Реалистичность измеряется FID относительно отложенных цифр; изображения — цифры 28x28, а не фотографии.",
    ),
    (
        "- Интерполяция в латентном пространстве",
        "genlab explore runs/vae --what interpolate --pair 0 1 --out i.png",
        "genlab.autoencoders.explore",
        ("5.2", "get"),
        "Linear and slerp paths; also the studio's Latent explorer page.",
        "Пути по прямой и slerp; также страница «Латентное пространство» в студии.",
    ),
    (
        "- Понимание β-VAE для контроля disentanglement",
        "genlab explore runs/beta-vae --what traversal --out t.png",
        "genlab.autoencoders.vae",
        ("5.2", "get"),
        "",
        "",
    ),
]
CH53 = [
    (
        "## Глава 5.3: Генеративно-состязательные сети (GAN)",
        "genlab train dcgan",
        "genlab.gans",
        ("5.3", "intro"),
        "",
        "",
    ),
    ("### Цели главы", "", "", ("5.3", "intro"), "", ""),
    ("### Теоретическая часть", "", "", ("5.3", "intro"), "", ""),
    ("#### Принцип работы GAN", "", "genlab.gans.base", ("5.3", "intro"), "", ""),
    (
        "#### Игра с нулевой суммой",
        "",
        "genlab.gans.losses",
        ("5.3", "intro"),
        "The minimax loss and the non-saturating generator loss are both available.",
        "Доступны и минимаксная функция потерь, и ненасыщающаяся функция потерь генератора.",
    ),
    (
        "#### Проблемы обучения GAN",
        "genlab train dcgan --out runs/dcgan",
        "genlab.gans.base",
        ("5.3", "get"),
        "Coverage, D's accuracy and gradient norms are tracked; a collapsed run stops with a message.",
        "Отслеживаются покрытие, точность D и нормы градиентов; сколлапсировавший запуск останавливается с сообщением.",
    ),
    ("### Практическая часть", "", "", ("5.3", "train"), "", ""),
    (
        "#### Реализация DCGAN",
        "genlab train dcgan --preset book",
        "genlab.gans.dcgan",
        ("5.3", "wrong"),
        "The book's discriminator head size and BatchNorm eps are fixed in `--preset book`.",
        "Размер головы дискриминатора и eps в BatchNorm из учебника исправлены в `--preset book`.",
    ),
    ("#### Цикл обучения GAN", "genlab train dcgan", "genlab.gans.base", ("5.3", "wrong"), "", ""),
    ("### Улучшенные архитектуры GAN", "genlab train stylegan", "genlab.gans.stylegan", ("5.3", "intro"), "", ""),
    (
        "#### StyleGAN концепция",
        "genlab sample runs/stylegan --n 64 --truncation 0.7 --out sg.npy",
        "genlab.gans.stylegan",
        ("5.3", "train"),
        "",
        "",
    ),
    (
        "#### CycleGAN для перевода изображений",
        "genlab translate runs/cyclegan --direction a2b --in x.npy --out y.npy",
        "genlab.gans.cyclegan",
        ("5.3", "train"),
        "Domains are thin and bold handwriting (no horses and zebras ship with genlab).",
        "Домены — тонкий и жирный почерк (лошадей и зебр в genlab нет).",
    ),
    (
        "### Практические результаты",
        "genlab eval --samples gan.npy --json",
        "genlab.metrics.quality",
        ("5.3", "get"),
        "",
        "",
    ),
    ("- Реализация DCGAN с нуля", "genlab train dcgan", "genlab.gans.dcgan", ("5.3", "train"), "", ""),
    (
        "- Генерация реалистичных лиц",
        "genlab train dcgan",
        "genlab.gans.dcgan",
        ("5.3", "get"),
        "Departure: genlab ships no face data set and downloads nothing, so its GANs draw the embedded MNIST digits (and Omniglot characters); realism is FID against held-out digits.",
        "Отступление: в genlab нет набора лиц и ничего не скачивается, поэтому его GAN рисуют встроенные цифры MNIST (и символы Omniglot); реалистичность — это FID относительно отложенных цифр.",
    ),
    ("- Понимание проблем обучения GAN", "genlab train dcgan", "genlab.gans.base", ("5.3", "get"), "", ""),
    (
        "- Эксперименты с различными архитектурами",
        "genlab train cgan",
        "genlab.gans.cgan",
        ("5.3", "get"),
        "DCGAN, conditional GAN, StyleGAN and CycleGAN; `python -m bench gan` compares the default with the book's networks.",
        "DCGAN, условный GAN, StyleGAN и CycleGAN; `python -m bench gan` сравнивает вариант по умолчанию с сетями учебника.",
    ),
]
CH54 = [
    ("## Глава 5.4: Диффузионные модели", "genlab train ddpm", "genlab.diffusion", ("5.4", "intro"), "", ""),
    ("### Цели главы", "", "", ("5.4", "intro"), "", ""),
    ("### Теоретическая часть", "", "", ("5.4", "intro"), "", ""),
    ("#### Принцип диффузии", "", "genlab.diffusion.schedules", ("5.4", "intro"), "", ""),
    ("#### Математические основы", "", "genlab.diffusion.schedules", ("5.4", "intro"), "", ""),
    (
        "#### U-Net архитектура для диффузии",
        "genlab train ddpm --preset book",
        "genlab.diffusion.unet",
        ("5.4", "wrong"),
        "The book's SimpleUNet only fits 32x32 and sees time only at the bottleneck; both are fixed.",
        "SimpleUNet учебника подходит только для 32x32 и видит время только в узком месте; оба дефекта исправлены.",
    ),
    ("### Практическая часть", "", "", ("5.4", "train"), "", ""),
    (
        "#### Реализация простой диффузионной модели",
        "genlab train ddpm --out runs/ddpm",
        "genlab.diffusion.recipe",
        ("5.4", "train"),
        "",
        "",
    ),
    ("#### Процесс обучения", "genlab train ddpm", "genlab.diffusion.recipe", ("5.4", "train"), "", ""),
    (
        "#### Сэмплирование (генерация)",
        "genlab sample runs/ddpm --n 16 --sampler ddpm --steps 1000 --out d.npy",
        "genlab.diffusion.samplers",
        ("5.4", "get"),
        "DDPM ancestral sampling and DDIM; also the studio's Diffusion viewer page.",
        "Анцестральное сэмплирование DDPM и DDIM; также страница «Диффузия по шагам» в студии.",
    ),
    ("### Сравнение с GAN", "python -m bench diffusion", "genlab.metrics.quality", ("5.4", "get"), "", ""),
    (
        "### Практические результаты",
        "genlab eval --samples d.npy --json",
        "genlab.metrics.quality",
        ("5.4", "get"),
        "",
        "",
    ),
    ("- Реализация DDPM с нуля", "genlab train ddpm", "genlab.diffusion.recipe", ("5.4", "train"), "", ""),
    (
        "- Генерация высококачественных изображений",
        "genlab sample runs/ddpm --n 64 --out d.npy --png d.png",
        "genlab.diffusion.samplers",
        ("5.4", "get"),
        "“High quality” here means FID, precision and recall on 28x28 digits; genlab has no photographs to train on.",
        "«Высокое качество» здесь — это FID, precision и recall на цифрах 28x28; фотографий для обучения в genlab нет.",
    ),
    ("- Понимание процесса диффузии", "genlab train ddpm", "genlab.diffusion.visuals", ("5.4", "get"), "", ""),
    (
        "- Сравнение с другими генеративными моделями",
        "python -m bench diffusion",
        "genlab.metrics.quality",
        ("5.4", "get"),
        "Also side by side in the studio's Generators page.",
        "Также бок о бок на странице «Генераторы» в студии.",
    ),
]
CH55 = [
    ("## Глава 5.5: Reinforcement Learning основы", "genlab train dqn", "genlab.rl", ("5.5", "intro"), "", ""),
    ("### Цели главы", "", "", ("5.5", "intro"), "", ""),
    ("### Теоретическая часть", "", "", ("5.5", "intro"), "", ""),
    ("#### Основные концепции RL", "", "genlab.rl.base", ("5.5", "intro"), "", ""),
    ("#### Основные компоненты", "", "genlab.rl.envs", ("5.5", "intro"), "", ""),
    (
        "#### Q-Learning алгоритм",
        "genlab train qlearning --out runs/qlearning",
        "genlab.rl.qlearning",
        ("5.5", "train"),
        "Tabular Q-learning on FrozenLake (and Taxi with `--env Taxi-v3`).",
        "Табличный Q-learning на FrozenLake (и Taxi с `--env Taxi-v3`).",
    ),
    ("### Практическая часть", "", "", ("5.5", "train"), "", ""),
    (
        "#### Реализация Deep Q-Network (DQN)",
        "genlab train dqn --preset book",
        "genlab.rl.dqn",
        ("5.5", "wrong"),
        "The book's agent (one update per episode, truncation cut) is `--preset book`, with its bugs fixed.",
        "Агент учебника (одно обновление на эпизод, обрыв при усечении) — это `--preset book`, с исправленными ошибками.",
    ),
    (
        "#### Простая игровая среда (CartPole)",
        "genlab play runs/dqn --gif cartpole.gif --episodes 1",
        "genlab.rl.envs",
        ("5.5", "get"),
        "",
        "",
    ),
    ("### Анализ обучения", "genlab eval runs/dqn --episodes 100 --json", "genlab.rl.plots", ("5.5", "get"), "", ""),
    ("### Продвинутые методы", "genlab train a2c", "genlab.rl.a2c", ("5.5", "intro"), "", ""),
    ("#### Policy Gradient (REINFORCE)", "genlab train reinforce", "genlab.rl.reinforce", ("5.5", "wrong"), "", ""),
    ("### Практические результаты", "genlab eval runs/dqn --json", "genlab.rl.base", ("5.5", "get"), "", ""),
    ("- Реализация DQN агента", "genlab train dqn", "genlab.rl.dqn", ("5.5", "train"), "", ""),
    (
        "- Обучение агента играть в CartPole",
        "genlab train dqn --out runs/dqn",
        "genlab.rl.dqn",
        ("5.5", "get"),
        "“Solved” is the standard CartPole-v1 threshold: mean return 475 over 100 greedy episodes.",
        "«Решено» — стандартный порог CartPole-v1: средняя отдача 475 за 100 жадных эпизодов.",
    ),
    (
        "- Понимание exploration vs exploitation",
        "genlab train qlearning",
        "genlab.rl.schedules",
        ("5.5", "intro"),
        "",
        "",
    ),
    (
        "- Знакомство с Policy Gradient методами",
        "genlab train a2c",
        "genlab.rl.a2c",
        ("5.5", "get"),
        "Also the studio's Reinforcement learning page.",
        "Также страница «Обучение с подкреплением» в студии.",
    ),
]
CH56 = [
    (
        "## Глава 5.6: Meta-learning и Few-shot learning",
        "genlab train protonet",
        "genlab.fewshot",
        ("5.6", "intro"),
        "",
        "",
    ),
    ("### Цели главы", "", "", ("5.6", "intro"), "", ""),
    ("### Теоретическая часть", "", "", ("5.6", "intro"), "", ""),
    ("#### Что такое Meta-learning?", "", "genlab.fewshot.base", ("5.6", "intro"), "", ""),
    ("#### Few-shot learning задача", "", "genlab.fewshot.episodes", ("5.6", "intro"), "", ""),
    ("#### MAML алгоритм", "genlab train maml", "genlab.fewshot.maml", ("5.6", "intro"), "", ""),
    ("### Практическая часть", "", "", ("5.6", "train"), "", ""),
    (
        "#### Реализация MAML",
        "genlab train maml --set first_order=true",
        "genlab.fewshot.maml",
        ("5.6", "wrong"),
        "The book's MAML never uses its adapted parameters; genlab runs them through torch.func.functional_call.",
        "MAML учебника никогда не использует адаптированные параметры; genlab прогоняет их через torch.func.functional_call.",
    ),
    (
        "#### Prototypical Networks",
        "genlab train protonet --out runs/protonet",
        "genlab.fewshot.protonet",
        ("5.6", "train"),
        "",
        "",
    ),
    (
        "#### Создание few-shot датасета",
        "genlab data info omniglot",
        "genlab.data.omniglot",
        ("5.6", "intro"),
        "Omniglot's two “background small” sets ship with genlab; held-out alphabets are the test classes.",
        "Два набора Omniglot «background small» поставляются с genlab; отложенные алфавиты — тестовые классы.",
    ),
    (
        "### Эксперименты и результаты",
        "genlab eval runs/protonet --ways 5 --shots 1 --episodes 600 --json",
        "genlab.fewshot.benchmark",
        ("5.6", "get"),
        "",
        "",
    ),
    ("### Практические результаты", "python -m bench fewshot", "genlab.fewshot.benchmark", ("5.6", "get"), "", ""),
    ("- Реализация MAML алгоритма", "genlab train maml", "genlab.fewshot.maml", ("5.6", "train"), "", ""),
    ("- Создание Prototypical Networks", "genlab train protonet", "genlab.fewshot.protonet", ("5.6", "train"), "", ""),
    (
        "- Few-shot классификация с точностью 80%+",
        "genlab eval runs/protonet --ways 5 --shots 1 --json",
        "genlab.fewshot.protonet",
        ("5.6", "get"),
        "Measured as 5-way 1-shot accuracy on held-out Omniglot alphabets, with a 95% interval; own images via `genlab fewshot` and the studio's Few-shot page.",
        "Измеряется как точность 5-way 1-shot на отложенных алфавитах Omniglot с 95% интервалом; свои изображения — через `genlab fewshot` и страницу few-shot в студии.",
    ),
    (
        "- Понимание принципов meta-learning",
        "genlab train finetune",
        "genlab.fewshot.finetune",
        ("5.6", "intro"),
        "",
        "",
    ),
]
CH57 = [
    ("## Глава 5.7: Multimodal модели", "genlab train clip", "genlab.multimodal", ("5.7", "intro"), "", ""),
    ("### Цели главы", "", "", ("5.7", "intro"), "", ""),
    ("### Теоретическая часть", "", "", ("5.7", "intro"), "", ""),
    ("#### Что такое мультимодальные модели?", "", "genlab.multimodal.clip", ("5.7", "intro"), "", ""),
    ("#### CLIP архитектура", "genlab train clip --preset book", "genlab.multimodal.clip", ("5.7", "wrong"), "", ""),
    ("#### Contrastive Learning", "genlab train clip", "genlab.multimodal.clip", ("5.7", "intro"), "", ""),
    ("### Практическая часть", "", "", ("5.7", "train"), "", ""),
    (
        "#### Реализация простого CLIP",
        "genlab train clip --out runs/clip",
        "genlab.multimodal.clip",
        ("5.7", "train"),
        "",
        "",
    ),
    (
        "#### Обучение CLIP модели",
        "genlab train clip",
        "genlab.multimodal.captions",
        ("5.7", "intro"),
        "Trained on MNIST digits with captions measured from each image (stroke, slant, size), not on web image-text pairs.",
        "Обучается на цифрах MNIST с подписями, измеренными по каждому изображению (штрих, наклон, размер), а не на парах изображение-текст из интернета.",
    ),
    (
        "#### Использование предобученного CLIP",
        "genlab train clip --set text_tower=minilm",
        "genlab.multimodal.clip",
        ("5.7", "wrong"),
        "Departure: OpenAI's weights cannot be downloaded; genlab trains its own CLIP, or uses a locally packaged frozen sentence encoder (LiT, the optional `lit` extra).",
        "Отступление: веса OpenAI скачать нельзя; genlab обучает собственный CLIP или использует локально упакованный замороженный энкодер предложений (LiT, необязательное дополнение `lit`).",
    ),
    (
        "#### Создание веб-приложения для поиска",
        "genlab studio",
        "genlab.app.views.search",
        ("5.7", "train"),
        "The studio's Image search page (Streamlit), in English and Russian.",
        "Страница «Поиск изображений» в студии (Streamlit), на английском и русском.",
    ),
    (
        "### Генерация изображений по тексту (DALL-E концепция)",
        'genlab generate "a bold seven slanted right" --out g.npy',
        "genlab.pipelines.text2image",
        ("final", "intro"),
        "",
        "",
    ),
    (
        "### Оценка качества мультимодальных моделей",
        "genlab eval runs/clip --json",
        "genlab.multimodal.zeroshot",
        ("5.7", "get"),
        "",
        "",
    ),
    (
        "### Практические результаты",
        "genlab eval runs/clip --json",
        "genlab.multimodal.zeroshot",
        ("5.7", "get"),
        "",
        "",
    ),
    ("- Реализация простой CLIP модели", "genlab train clip", "genlab.multimodal.clip", ("5.7", "train"), "", ""),
    (
        "- Создание поисковика изображений по тексту",
        'genlab search query my_images.npz "a bold seven" -k 8',
        "genlab.pipelines.search",
        ("5.7", "get"),
        "Any folder of images can be indexed; the texts the model knows describe digits.",
        "Проиндексировать можно любую папку изображений; тексты, которые знает модель, описывают цифры.",
    ),
    (
        "- Zero-shot классификация",
        "genlab classify runs/clip digits.npy --top 3",
        "genlab.multimodal.zeroshot",
        ("5.7", "get"),
        "Also the studio's Zero-shot classifier page (held-out digit, drawing or upload).",
        "Также страница «Zero-shot классификатор» в студии (отложенная цифра, рисунок или загрузка).",
    ),
    (
        "- Веб-приложение для демонстрации",
        "genlab studio",
        "genlab.app.studio",
        ("final", "use"),
        "Nine pages, a language switch (English / Русский) and `?lang=ru`.",
        "Девять страниц, переключатель языка (English / Русский) и `?lang=ru`.",
    ),
]
FINAL = [
    (
        "## Итоговый проект блока",
        "genlab train text2image",
        "genlab.pipelines.text2image_recipe",
        ("final", "intro"),
        "",
        "",
    ),
    (
        "### Задание: Создание мультимодальной генеративной системы",
        'genlab generate "a thin 2" --model runs/text2image --candidates 4 --stages --png t2i.png',
        "genlab.pipelines.text2image",
        ("final", "use"),
        "All four components (VAE, CLIP, GAN, web interface) are built. Departure: the system draws handwritten digits, the only images it is trained on; "
        "the course's example “Красивый закат над океаном” (a beautiful sunset over the ocean) cannot be drawn by a digits model.",
        "Все четыре компонента (VAE, CLIP, GAN, веб-интерфейс) построены. Отступление: система рисует рукописные цифры — единственные изображения, на которых она обучена; "
        "пример курса «Красивый закат над океаном» модель цифр нарисовать не может.",
    ),
    (
        "### Архитектура проекта",
        'genlab generate "a bold seven slanted right" --out g.npy',
        "genlab.pipelines.t2i_stages",
        ("final", "intro"),
        "CLIP text encoder -> text-conditioned VAE decoder -> GAN refiner -> CLIP reranking; a diffusion backend as a second option.",
        "Текстовый энкодер CLIP -> условный по тексту декодер VAE -> GAN-доводчик -> переранжирование CLIP; диффузия как второй вариант.",
    ),
    (
        "### Критерии оценки",
        "genlab eval runs/text2image --json",
        "genlab.pipelines.t2i_metrics",
        ("final", "get"),
        "Each criterion (architecture, realism, match to the text, diversity, interface, documentation) is measured in the guide's table.",
        "Каждый критерий (архитектура, реалистичность, соответствие тексту, разнообразие, интерфейс, документация) измерен в таблице руководства.",
    ),
]
CONCLUSION = [
    (
        "## Заключение блока",
        "",
        "",
        None,
        "A summary of the block; every skill it lists maps to a chapter above.",
        "Итог блока; каждый навык из него соответствует одной из глав выше.",
    ),
    (
        "### Чему вы научились",
        "python -m bench",
        "",
        None,
        "“Six types of generative models”: AE, VAE, GAN, diffusion, CLIP-based text to image, and the RL/meta-learning chapters; `python -m bench` measures them.",
        "«Шесть типов генеративных моделей»: AE, VAE, GAN, диффузия, текст в изображение на основе CLIP, а также главы RL и meta-learning; `python -m bench` их измеряет.",
    ),
    (
        "### Следующие шаги",
        "",
        "",
        None,
        "Not part of genlab: Stable Diffusion, DALL-E 2 and Midjourney need weights and data genlab does not ship.",
        "Вне genlab: Stable Diffusion, DALL-E 2 и Midjourney требуют весов и данных, которых в genlab нет.",
    ),
    (
        "### Полезные ресурсы",
        "",
        "",
        None,
        'A reading list; genlab uses PyTorch and Streamlit from it and optionally Weights & Biases (`pip install -e ".[wandb]"`).',
        'Список литературы и инструментов; genlab использует из него PyTorch и Streamlit и, по желанию, Weights & Biases (`pip install -e ".[wandb]"`).',
    ),
]
PARTS = [BLOCK, CH51, CH52, CH53, CH54, CH55, CH56, CH57, FINAL, CONCLUSION]
ROWS = [row for part in PARTS for row in part]

TEXT = {
    "en": {
        "title": "# Course map: block 5 of the course and genlab",
        "intro": (
            "Every section, exercise (“Задание”) and practical result (“Практические результаты”) of the course text, "
            "quoted in its own words, next to the genlab command, module and guide section that implement it. "
            "The notes say where genlab departs from the course, and why. The Russian version: [ru/course-map.md](ru/course-map.md). "
            "The studio (`genlab studio`) speaks both languages: a switch in its sidebar, or `?lang=ru`."
        ),
        "departures": (
            "Where genlab departs from the course, in short: it trains only on the data it ships (5,000 MNIST digits "
            "and the Omniglot background sets) and downloads nothing, so no model here draws faces, photographs or "
            "sunsets; pretrained CLIP weights are replaced by a CLIP trained from scratch; every number the course "
            "asks for is measured on held-out data and reported in the guides."
        ),
        "header": "| Course text | genlab command | Module | Guide section | Note |",
        "none": "—",
        "outline": (
            "The list of course items is docs/course_outline.txt, extracted from the course text by "
            "`python docs/course_outline.py`; this map is rendered by `python docs/course_map.py`."
        ),
        "guide_names": {
            "5.1": "5.1",
            "5.2": "5.2",
            "5.3": "5.3",
            "5.4": "5.4",
            "5.5": "5.5",
            "5.6": "5.6",
            "5.7": "5.7",
            "final": "Final project",
        },
    },
    "ru": {
        "title": "# Карта курса: блок 5 и genlab",
        "intro": (
            "Каждый раздел, задание и пункт «Практических результатов» из текста курса — его собственными словами — "
            "рядом с командой genlab, модулем и разделом руководства, которые это реализуют. Примечания говорят, где "
            "genlab отступает от курса и почему. Английская версия: [../course-map.md](../course-map.md). "
            "Студия (`genlab studio`) говорит на обоих языках: переключатель в боковой панели или `?lang=ru`."
        ),
        "departures": (
            "Где genlab отступает от курса, коротко: он обучается только на данных, которые поставляются с ним "
            "(5,000 цифр MNIST и фоновые наборы Omniglot), и ничего не скачивает, поэтому ни одна модель здесь не "
            "рисует лица, фотографии или закаты; предобученные веса CLIP заменены CLIP, обученным с нуля; каждое "
            "число, которого просит курс, измерено на отложенных данных и приведено в руководствах."
        ),
        "header": "| Текст курса | Команда genlab | Модуль | Раздел руководства | Примечание |",
        "none": "—",
        "outline": (
            "Список пунктов курса — docs/course_outline.txt, извлечённый из текста курса командой "
            "`python docs/course_outline.py`; эта карта собирается командой `python docs/course_map.py`."
        ),
        "guide_names": {
            "5.1": "5.1",
            "5.2": "5.2",
            "5.3": "5.3",
            "5.4": "5.4",
            "5.5": "5.5",
            "5.6": "5.6",
            "5.7": "5.7",
            "final": "Итоговый проект",
        },
    },
}


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def course_cell(item: str) -> str:
    """The course item as the map shows it: headings bold by level, results as check-marked items."""
    marks, text = item.split(" ", 1)
    if marks == "-":
        return f"✅ {text}"
    if marks == "##":
        return f"**{text}**"
    if marks == "###":
        return text
    return f"↳ {text}"


def render(lang: str) -> str:
    T = TEXT[lang]
    col = 0 if lang == "en" else 1
    lines = [T["title"], "", T["intro"], "", T["departures"], ""]
    for part in PARTS:
        lines += [f"## {part[0][0].split(' ', 1)[1]}", "", T["header"], "|---|---|---|---|---|"]
        for item, cmd, module, guide, note_en, note_ru in part:
            if guide is None:
                where = T["none"]
            else:
                chapter, section = guide
                where = f"[{T['guide_names'][chapter]} · {SECTIONS[section][col]}]({GUIDES[chapter]})"
            note = (note_en, note_ru)[col]
            lines.append(
                "| "
                + " | ".join(
                    [
                        cell(course_cell(item)),
                        f"`{cell(cmd)}`" if cmd else T["none"],
                        f"`{module}`" if module else T["none"],
                        where,
                        cell(note) if note else "",
                    ]
                )
                + " |"
            )
        lines.append("")
    lines += ["---", f"<sub>{T['outline']}</sub>", ""]
    return "\n".join(lines)


def targets(docs: Path = DOCS) -> dict[Path, str]:
    return {docs / "course-map.md": render("en"), docs / "ru" / "course-map.md": render("ru")}


def main(argv=None) -> int:
    for path, text in targets().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
